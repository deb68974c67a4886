package dev.tfs.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;

/**
 * A small client for the subset of the Confluent Schema Registry REST API that tfs needs: register
 * a schema under a subject and fetch a schema by id. Answers are cached forever (ids are
 * immutable). Thread-safe.
 *
 * <p>Confluent's own client is not on Maven Central; this one speaks the same HTTP API, so it works
 * against Confluent Schema Registry, Karapace, Redpanda and Apicurio's Confluent-compatible API.
 *
 * <p>The base URL may list several registries separated by commas; a call tries them in turn.
 * Credentials may be given in the URL's user-info ({@code https://user:secret@host:8081}) and are
 * sent as HTTP basic authentication. Transport errors and 5xx answers are retried with exponential
 * backoff; 4xx answers are not.
 */
public final class SchemaRegistryClient {
  static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

  private static final ObjectMapper JSON = new ObjectMapper();

  private final List<Endpoint> endpoints;
  private final HttpClient http;
  private final Duration requestTimeout;
  private final int attempts;
  private final Duration backoff;
  private final Map<String, Integer> idsBySubjectAndSchema = new ConcurrentHashMap<>();
  private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();

  /** A client with 10 s timeouts and 4 attempts per call, 200 ms backoff doubling. */
  public SchemaRegistryClient(String urls) {
    this(urls, Duration.ofSeconds(10), 4, Duration.ofMillis(200));
  }

  /**
   * @param urls comma-separated base URLs, e.g. {@code http://localhost:8081}
   * @param timeout connect and request timeout per attempt
   * @param attempts attempts per call (at least 1) before {@link
   *     SchemaRegistryException.Kind#UNAVAILABLE}
   * @param backoff wait before the second attempt; doubles after each further failure
   */
  public SchemaRegistryClient(String urls, Duration timeout, int attempts, Duration backoff) {
    this.endpoints = parse(urls);
    if (attempts < 1) {
      throw new IllegalArgumentException("attempts must be at least 1");
    }
    this.requestTimeout = Objects.requireNonNull(timeout);
    this.attempts = attempts;
    this.backoff = Objects.requireNonNull(backoff);
    this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
  }

  /**
   * Registers {@code schema} under {@code subject} (or finds it already registered) and returns its
   * global id.
   *
   * @throws SchemaRegistryException INCOMPATIBLE when the subject's compatibility rule refuses the
   *     schema, UNAVAILABLE when no registry answered
   */
  public int register(String subject, Schema schema) {
    String text = schema.toString();
    String cacheKey = subject + '\0' + text;
    Integer cached = idsBySubjectAndSchema.get(cacheKey);
    if (cached != null) {
      return cached;
    }
    ObjectNode body = JSON.createObjectNode();
    body.put("schema", text);
    JsonNode answer =
        call(
            "POST",
            "/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8) + "/versions",
            body.toString());
    JsonNode id = answer.get("id");
    if (id == null || !id.canConvertToInt()) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.PROTOCOL,
          200,
          "register answer has no integer id: " + answer,
          null);
    }
    int value = id.intValue();
    idsBySubjectAndSchema.put(cacheKey, value);
    schemasById.putIfAbsent(value, schema);
    return value;
  }

  /**
   * The Avro schema with this global id.
   *
   * @throws SchemaRegistryException NOT_FOUND for an unknown id, PROTOCOL for a schema that is not
   *     Avro, UNAVAILABLE when no registry answered
   */
  public Schema schemaById(int id) {
    Schema cached = schemasById.get(id);
    if (cached != null) {
      return cached;
    }
    JsonNode answer = call("GET", "/schemas/ids/" + id, null);
    JsonNode type = answer.get("schemaType");
    if (type != null && !type.isNull() && !"AVRO".equals(type.asText())) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.PROTOCOL,
          200,
          "schema id " + id + " is a " + type.asText() + " schema, not Avro",
          null);
    }
    JsonNode text = answer.get("schema");
    if (text == null || !text.isTextual()) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.PROTOCOL,
          200,
          "schema answer has no schema text: " + answer,
          null);
    }
    Schema schema;
    try {
      schema = new Schema.Parser().parse(text.asText());
    } catch (RuntimeException e) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.PROTOCOL,
          200,
          "schema id " + id + " is not valid Avro: " + e.getMessage(),
          e);
    }
    Schema prior = schemasById.putIfAbsent(id, schema);
    return prior != null ? prior : schema;
  }

  private JsonNode call(String method, String path, String body) {
    SchemaRegistryException last = null;
    long wait = backoff.toMillis();
    for (int attempt = 1; attempt <= attempts; attempt++) {
      for (Endpoint ep : endpoints) {
        try {
          return once(ep, method, path, body);
        } catch (SchemaRegistryException e) {
          if (!e.retriable()) {
            throw e;
          }
          last = e;
        }
      }
      if (attempt < attempts) {
        try {
          Thread.sleep(wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new SchemaRegistryException(
              SchemaRegistryException.Kind.UNAVAILABLE, -1, "interrupted while retrying", e);
        }
        wait = Math.min(wait * 2, 10_000);
      }
    }
    throw new SchemaRegistryException(
        last.kind(),
        last.httpStatus(),
        "schema registry "
            + method
            + " "
            + path
            + " failed after "
            + attempts
            + " attempts: "
            + last.getMessage(),
        last);
  }

  private JsonNode once(Endpoint ep, String method, String path, String body) {
    HttpRequest.Builder req =
        HttpRequest.newBuilder(ep.base.resolve(ep.base.getPath().replaceAll("/$", "") + path))
            .timeout(requestTimeout)
            .header("Accept", CONTENT_TYPE + ", application/json");
    if (ep.authorization != null) {
      req.header("Authorization", ep.authorization);
    }
    if (body != null) {
      req.header("Content-Type", CONTENT_TYPE);
      req.method(method, HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8));
    } else {
      req.method(method, HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<String> resp;
    try {
      resp = http.send(req.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.UNAVAILABLE,
          -1,
          "cannot reach schema registry at " + ep.display + ": " + e,
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.UNAVAILABLE, -1, "interrupted calling " + ep.display, e);
    }
    int status = resp.statusCode();
    JsonNode json = null;
    try {
      json = resp.body() == null || resp.body().isEmpty() ? null : JSON.readTree(resp.body());
    } catch (IOException e) {
      if (status / 100 == 2) {
        throw new SchemaRegistryException(
            SchemaRegistryException.Kind.PROTOCOL,
            status,
            ep.display + " answered " + status + " with a body that is not JSON",
            e);
      }
    }
    if (status / 100 == 2) {
      if (json == null || !json.isObject()) {
        throw new SchemaRegistryException(
            SchemaRegistryException.Kind.PROTOCOL,
            status,
            ep.display + " answered " + status + " without a JSON object",
            null);
      }
      return json;
    }
    String detail =
        json != null && json.has("message") ? json.get("message").asText() : resp.body();
    String what = method + " " + path + " at " + ep.display + " answered " + status + ": " + detail;
    if (status == 409) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.INCOMPATIBLE, status, what, null);
    }
    if (status == 404) {
      throw new SchemaRegistryException(SchemaRegistryException.Kind.NOT_FOUND, status, what, null);
    }
    if (status / 100 == 5 || status == 429 || status == 408) {
      throw new SchemaRegistryException(
          SchemaRegistryException.Kind.UNAVAILABLE, status, what, null);
    }
    throw new SchemaRegistryException(SchemaRegistryException.Kind.REJECTED, status, what, null);
  }

  private static List<Endpoint> parse(String urls) {
    if (urls == null || urls.isBlank()) {
      throw new IllegalArgumentException("schema registry URL is empty");
    }
    List<Endpoint> out = new ArrayList<>();
    for (String part : urls.split(",", -1)) {
      String u = part.strip();
      if (u.isEmpty()) {
        continue;
      }
      URI uri;
      try {
        uri = URI.create(u);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("schema registry URL '" + u + "' is not a URL", e);
      }
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme())) {
        throw new IllegalArgumentException(
            "schema registry URL '" + u + "' must start with http:// or https://");
      }
      if (uri.getHost() == null) {
        throw new IllegalArgumentException("schema registry URL '" + u + "' has no host");
      }
      String auth = null;
      String display =
          uri.getScheme()
              + "://"
              + uri.getHost()
              + (uri.getPort() >= 0 ? ":" + uri.getPort() : "")
              + (uri.getRawPath() == null ? "" : uri.getRawPath());
      if (uri.getRawUserInfo() != null) {
        auth =
            "Basic "
                + Base64.getEncoder()
                    .encodeToString(uri.getUserInfo().getBytes(StandardCharsets.UTF_8));
      }
      URI base = URI.create(display.endsWith("/") ? display : display + "/");
      out.add(new Endpoint(base, auth, display));
    }
    if (out.isEmpty()) {
      throw new IllegalArgumentException("schema registry URL list '" + urls + "' has no URL");
    }
    return out;
  }

  private static final class Endpoint {
    final URI base;
    final String authorization;
    final String display;

    Endpoint(URI base, String authorization, String display) {
      this.base = base;
      this.authorization = authorization;
      this.display = display;
    }
  }
}
