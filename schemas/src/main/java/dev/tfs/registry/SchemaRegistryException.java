package dev.tfs.registry;

/** A schema registry call that failed; {@link #kind()} says whether retrying can help. */
public class SchemaRegistryException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** Why the call failed. */
  public enum Kind {
    /** HTTP 409: the schema is incompatible with the subject's compatibility setting. */
    INCOMPATIBLE(false),
    /** HTTP 404: no such subject, version or schema id. */
    NOT_FOUND(false),
    /** HTTP 422 or another 4xx: the registry refused the request as invalid. */
    REJECTED(false),
    /** Not reachable, timed out, or 5xx after every retry: try again later. */
    UNAVAILABLE(true),
    /** The registry answered with something that is not the Confluent REST API. */
    PROTOCOL(false);

    private final boolean retriable;

    Kind(boolean retriable) {
      this.retriable = retriable;
    }

    public boolean retriable() {
      return retriable;
    }
  }

  private final Kind kind;
  private final int httpStatus;

  public SchemaRegistryException(Kind kind, int httpStatus, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.httpStatus = httpStatus;
  }

  public Kind kind() {
    return kind;
  }

  /** The HTTP status of the last answer, or -1 when there was none. */
  public int httpStatus() {
    return httpStatus;
  }

  /** True when the same call may succeed later (the registry is down or overloaded). */
  public boolean retriable() {
    return kind.retriable();
  }
}
