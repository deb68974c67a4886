package dev.tfs.tools.stack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The few calls of Kafka Connect's REST API the front door uses. */
public final class ConnectRest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final URI base;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  public ConnectRest(String url) {
    this.base = URI.create(url.endsWith("/") ? url : url + "/");
  }

  public String url() {
    return base.toString().replaceAll("/$", "");
  }

  /** An answer: status code and parsed JSON body (null when empty or not JSON). */
  public record Answer(int status, JsonNode body) {
    public boolean ok() {
      return status / 100 == 2;
    }
  }

  public Answer get(String path) throws IOException {
    return send("GET", path, null);
  }

  public Answer put(String path, JsonNode body) throws IOException {
    return send("PUT", path, body);
  }

  public Answer post(String path, JsonNode body) throws IOException {
    return send("POST", path, body);
  }

  public Answer delete(String path) throws IOException {
    return send("DELETE", path, null);
  }

  public Answer patch(String path, JsonNode body) throws IOException {
    return send("PATCH", path, body);
  }

  /** True when the worker answers its root resource. */
  public boolean reachable() {
    try {
      return get("").ok();
    } catch (IOException e) {
      return false;
    }
  }

  /** Creates or updates a connector's config (PUT /connectors/{name}/config). */
  public void upsert(String name, Map<String, String> config) throws IOException {
    ObjectNode body = JSON.createObjectNode();
    config.forEach(body::put);
    Answer a = put("connectors/" + name + "/config", body);
    if (!a.ok()) {
      throw new StackException(
          StackException.STARTUP,
          "Connect refused connector " + name + " (HTTP " + a.status() + "): " + message(a));
    }
  }

  /** The connector state and its tasks' states, e.g. {@code RUNNING [RUNNING]}; null if absent. */
  public JsonNode status(String name) throws IOException {
    Answer a = get("connectors/" + name + "/status");
    return a.ok() ? a.body() : null;
  }

  static String message(Answer a) {
    if (a.body() != null && a.body().has("message")) {
      return a.body().get("message").asText();
    }
    return a.body() == null ? "(no body)" : a.body().toString();
  }

  private Answer send(String method, String path, JsonNode body) throws IOException {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(base.resolve(path))
            .timeout(Duration.ofSeconds(30))
            .header("Accept", "application/json");
    if (body != null) {
      b.header("Content-Type", "application/json");
      b.method(method, HttpRequest.BodyPublishers.ofString(body.toString()));
    } else {
      b.method(method, HttpRequest.BodyPublishers.noBody());
    }
    try {
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      JsonNode json = null;
      if (r.body() != null && !r.body().isBlank()) {
        try {
          json = JSON.readTree(r.body());
        } catch (IOException e) {
          json = JSON.getNodeFactory().textNode(r.body());
        }
      }
      return new Answer(r.statusCode(), json);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted calling " + base.resolve(path), e);
    }
  }
}
