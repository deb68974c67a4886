package dev.tfs.source;

import dev.tfs.journal.JournalEntry;
import dev.tfs.op.OpCodec;
import dev.tfs.registry.SchemaRegistryClient;
import dev.tfs.registry.SchemaRegistryException;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.errors.RetriableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a journal entry into the record value the topic gets: the journal's single-object bytes
 * unchanged, or, with {@code tfs.schema.registry.url}, re-framed in the Confluent wire format under
 * the schema id registered for {@code <topic>-value}. Used by the polling thread only.
 */
final class ValueFramer {
  private static final Logger log = LoggerFactory.getLogger(ValueFramer.class);

  private final String connector;
  private final String topic;
  private final String registryUrl;
  private int schemaId = -1;

  /**
   * @param registryUrl the schema registry, or null to ship single-object values
   */
  ValueFramer(String connector, String topic, String registryUrl) {
    this.connector = connector;
    this.topic = topic;
    this.registryUrl = registryUrl;
  }

  /**
   * Registers the op schema once, when a registry is configured; until then values pass unchanged.
   *
   * @throws RetriableException when the registry is unreachable for now
   * @throws ConnectException when it refuses the schema
   */
  void ensureSchemaId() {
    if (registryUrl == null || schemaId >= 0) {
      return;
    }
    try {
      schemaId = new OpCodec(new SchemaRegistryClient(registryUrl)).registerFor(topic);
      log.info("{}: op schema registered under {}-value with id {}", connector, topic, schemaId);
    } catch (SchemaRegistryException e) {
      String msg =
          "cannot register the op schema under subject "
              + topic
              + "-value in the schema registry: "
              + e.getMessage();
      if (e.retriable()) {
        throw new RetriableException(msg, e);
      }
      throw new ConnectException(msg, e);
    }
  }

  /**
   * The record value of an op: the journal's value bytes, re-framed for the registry when one is
   * configured.
   *
   * @throws ConnectException when the value cannot be re-framed (another tfs version wrote it)
   */
  byte[] frame(JournalEntry e) {
    if (schemaId < 0) {
      return e.value();
    }
    try {
      return OpCodec.toConfluent(e.value(), schemaId);
    } catch (IllegalArgumentException ex) {
      throw new ConnectException(
          "op seq "
              + e.seq()
              + " (segment "
              + e.segment()
              + " position "
              + e.position()
              + ") cannot be re-framed for the schema registry: "
              + ex.getMessage()
              + ". It was written by another tfs version; ship without tfs.schema.registry.url"
              + " (every tfs decoder reads single-object values) or with the tfs version that"
              + " wrote the journal",
          ex);
    }
  }
}
