package dev.tfs.path;

/** An op path that breaks the rules of {@link OpPaths}; the message names the rule. */
public class OpPathException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  private final transient byte[] path;
  private final String problem;

  public OpPathException(byte[] path, String problem) {
    super("invalid op path " + quote(path) + ": " + problem);
    this.path = path == null ? null : path.clone();
    this.problem = problem;
  }

  /** The offending path, byte for byte (null when it was missing). */
  public byte[] path() {
    return path == null ? null : path.clone();
  }

  /** Which rule the path breaks, without the path itself. */
  public String problem() {
    return problem;
  }

  private static String quote(byte[] path) {
    if (path == null) {
      return "(null)";
    }
    String shown = OpPaths.escape(path);
    if (shown.length() > 200) {
      shown = shown.substring(0, 200) + "...(" + path.length + " bytes)";
    }
    return "\"" + shown + "\"";
  }
}
