package dev.tfs.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.tfs.op.OpSchemas;
import java.net.ServerSocket;
import java.time.Duration;
import org.apache.avro.Schema;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SchemaRegistryClientTest {
  private FakeSchemaRegistry server;
  private SchemaRegistryClient client;

  @BeforeEach
  void start() throws Exception {
    server = new FakeSchemaRegistry();
    client = new SchemaRegistryClient(server.url(), Duration.ofSeconds(5), 3, Duration.ofMillis(1));
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void registersUnderSubjectAndFetchesById() {
    int id = client.register("tfs.v.ops-value", OpSchemas.current());
    assertThat(server.requests()).containsExactly("POST /subjects/tfs.v.ops-value/versions");

    SchemaRegistryClient other =
        new SchemaRegistryClient(server.url(), Duration.ofSeconds(5), 1, Duration.ofMillis(1));
    Schema fetched = other.schemaById(id);
    assertThat(fetched).isEqualTo(OpSchemas.current());
    assertThat(server.requests()).contains("GET /schemas/ids/" + id);
  }

  @Test
  void answersFromCacheAfterFirstCall() {
    int id = client.register("s-value", OpSchemas.current());
    assertThat(client.register("s-value", OpSchemas.current())).isEqualTo(id);
    assertThat(client.schemaById(id)).isEqualTo(OpSchemas.current());
    assertThat(server.requests()).hasSize(1);

    int other = server.put(Schema.create(Schema.Type.STRING));
    client.schemaById(other);
    client.schemaById(other);
    assertThat(server.requests()).hasSize(2);
  }

  @Test
  void incompatibleSchemaIsA409WithoutRetry() {
    server.refuseAsIncompatible("s-value");
    assertThatThrownBy(() -> client.register("s-value", OpSchemas.current()))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SchemaRegistryException.Kind.INCOMPATIBLE);
              assertThat(e.httpStatus()).isEqualTo(409);
              assertThat(e.retriable()).isFalse();
            })
        .hasMessageContaining("incompatible");
    assertThat(server.requests()).hasSize(1);
  }

  @Test
  void serverErrorsAreRetried() {
    server.failNext(2, 503);
    int id = client.register("s-value", OpSchemas.current());
    assertThat(id).isPositive();
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void serverErrorsBeyondTheAttemptsAreUnavailable() {
    server.failNext(10, 500);
    assertThatThrownBy(() -> client.schemaById(7))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SchemaRegistryException.Kind.UNAVAILABLE);
              assertThat(e.retriable()).isTrue();
              assertThat(e.httpStatus()).isEqualTo(500);
            })
        .hasMessageContaining("after 3 attempts");
    assertThat(server.requests()).hasSize(3);
  }

  @Test
  void unknownIdIsNotFound() {
    assertThatThrownBy(() -> client.schemaById(999))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.kind()).isEqualTo(SchemaRegistryException.Kind.NOT_FOUND));
  }

  @Test
  void unreachableRegistryIsUnavailable() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    SchemaRegistryClient dead =
        new SchemaRegistryClient(
            "http://127.0.0.1:" + port, Duration.ofSeconds(2), 2, Duration.ofMillis(1));
    assertThatThrownBy(() -> dead.register("s-value", OpSchemas.current()))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(SchemaRegistryException.Kind.UNAVAILABLE);
              assertThat(e.httpStatus()).isEqualTo(-1);
            })
        .hasMessageContaining("cannot reach schema registry at http://127.0.0.1:" + port);
  }

  @Test
  void failsOverToTheNextListedRegistry() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    SchemaRegistryClient two =
        new SchemaRegistryClient(
            "http://127.0.0.1:" + port + ", " + server.url(),
            Duration.ofSeconds(2),
            1,
            Duration.ofMillis(1));
    assertThat(two.register("s-value", OpSchemas.current())).isPositive();
  }

  @Test
  void nonAvroSchemaIsAProtocolError() {
    int id = server.putRaw("not json at all {");
    assertThatThrownBy(() -> client.schemaById(id))
        .isInstanceOfSatisfying(
            SchemaRegistryException.class,
            e -> assertThat(e.kind()).isEqualTo(SchemaRegistryException.Kind.PROTOCOL));
  }

  @Test
  void badUrlsAreRefusedUpFront() {
    assertThatThrownBy(() -> new SchemaRegistryClient("localhost:8081"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("http://");
    assertThatThrownBy(() -> new SchemaRegistryClient(" , "))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
