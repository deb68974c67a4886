package dev.tfs.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.avro.Schema;

/**
 * An in-JVM HTTP server speaking the subset of the Confluent Schema Registry REST API that tfs uses
 * (register under a subject, fetch by id), with switches to make it refuse or fail on demand. A
 * stand-in for an external service the tests cannot run here, not a mock of tfs code.
 */
public final class FakeSchemaRegistry implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final HttpServer server;
  private final Map<String, Integer> idsBySchema = new ConcurrentHashMap<>();
  private final Map<Integer, String> schemasById = new ConcurrentHashMap<>();
  private final Set<String> incompatibleSubjects = ConcurrentHashMap.newKeySet();
  private final AtomicInteger nextId = new AtomicInteger(1);
  private final AtomicInteger failuresLeft = new AtomicInteger();
  private volatile int failureStatus = 500;
  private final List<String> requests = java.util.Collections.synchronizedList(new ArrayList<>());

  public FakeSchemaRegistry() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** Base URL, e.g. {@code http://127.0.0.1:40123}. */
  public String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Answer the next {@code n} requests with {@code status} (e.g. 503). */
  public void failNext(int n, int status) {
    failureStatus = status;
    failuresLeft.set(n);
  }

  /** Make registrations under {@code subject} fail with 409 as incompatible. */
  public void refuseAsIncompatible(String subject) {
    incompatibleSubjects.add(subject);
  }

  /** Registers a schema directly (as another producer would) and returns its id. */
  public int put(Schema schema) {
    return idsBySchema.computeIfAbsent(
        schema.toString(),
        s -> {
          int id = nextId.getAndIncrement();
          schemasById.put(id, s);
          return id;
        });
  }

  /** Stores raw schema text under a new id (to serve non-op or broken schemas). */
  public int putRaw(String schemaText) {
    int id = nextId.getAndIncrement();
    schemasById.put(id, schemaText);
    return id;
  }

  /** Requests served so far, as "METHOD path". */
  public List<String> requests() {
    synchronized (requests) {
      return new ArrayList<>(requests);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }

  private void handle(HttpExchange ex) throws IOException {
    try (ex) {
      String method = ex.getRequestMethod();
      String path = ex.getRequestURI().getRawPath();
      requests.add(method + " " + path);
      if (failuresLeft.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        send(ex, failureStatus, error(failureStatus * 100, "injected failure"));
        return;
      }
      if (method.equals("POST") && path.startsWith("/subjects/") && path.endsWith("/versions")) {
        String subject =
            URLDecoder.decode(
                path.substring("/subjects/".length(), path.length() - "/versions".length()),
                StandardCharsets.UTF_8);
        JsonNode body = JSON.readTree(ex.getRequestBody());
        if (incompatibleSubjects.contains(subject)) {
          send(
              ex,
              409,
              error(409, "Schema being registered is incompatible with an earlier schema"));
          return;
        }
        String text = body.path("schema").asText(null);
        if (text == null) {
          send(ex, 422, error(42201, "Invalid schema"));
          return;
        }
        int id = put(new Schema.Parser().parse(text));
        ObjectNode out = JSON.createObjectNode();
        out.put("id", id);
        send(ex, 200, out.toString());
        return;
      }
      if (method.equals("GET") && path.startsWith("/schemas/ids/")) {
        int id = Integer.parseInt(path.substring("/schemas/ids/".length()));
        String text = schemasById.get(id);
        if (text == null) {
          send(ex, 404, error(40403, "Schema " + id + " not found"));
          return;
        }
        ObjectNode out = JSON.createObjectNode();
        out.put("schema", text);
        send(ex, 200, out.toString());
        return;
      }
      send(ex, 404, error(404, "no such endpoint"));
    }
  }

  private static String error(int code, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("error_code", code);
    out.put("message", message);
    return out.toString();
  }

  private static void send(HttpExchange ex, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().set("Content-Type", SchemaRegistryClient.CONTENT_TYPE);
    ex.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = ex.getResponseBody()) {
      out.write(bytes);
    }
  }
}
