package dev.tfs.e2e;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The module table of {@code DESIGN.md} ("Modules": what each folder may depend on), checked on the
 * main classes of every module: a dependency the table does not allow fails the build. Tests are
 * left out (they may use any module, e.g. the real applier and verifier).
 *
 * <p>Where the code knowingly goes beyond the table the README's design notes say why: tools and
 * bench read op records and topic names, so they may use schemas.
 */
class ModuleRulesTest {
  /** Each module's packages (prefixes). */
  private static final Map<String, List<String>> PACKAGES = new LinkedHashMap<>();

  /** The tfs modules each module may use besides itself. */
  private static final Map<String, Set<String>> MAY_USE = new LinkedHashMap<>();

  static {
    module("schemas", Set.of(), "dev.tfs.op..", "dev.tfs.path..", "dev.tfs.registry..");
    module("posix", Set.of(), "dev.tfs.posix..");
    module("journal", Set.of("schemas"), "dev.tfs.journal..");
    module("connect-common", Set.of(), "dev.tfs.connect..");
    module("capture-fs", Set.of("schemas", "posix", "journal"), "dev.tfs.capture..");
    module("source-connector", Set.of("schemas", "journal", "connect-common"), "dev.tfs.source..");
    module("sink-connector", Set.of("schemas", "posix", "connect-common"), "dev.tfs.sink..");
    module("tools", Set.of("schemas", "posix"), "dev.tfs.tools..");
    module(
        "bench", Set.of("tools", "capture-fs", "posix", "schemas", "journal"), "dev.tfs.bench..");
  }

  private static JavaClasses classes;

  private static void module(String name, Set<String> mayUse, String... packages) {
    PACKAGES.put(name, List.of(packages));
    MAY_USE.put(name, mayUse);
  }

  @BeforeAll
  static void importClasses() {
    classes =
        new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            // tfs's own jars or class folders only; third-party classes are matched by name.
            .withImportOption(
                location ->
                    !location.isJar()
                        || location.asURI().toString().matches(".*/tfs-[a-z-]+-[^/]*\\.jar.*"))
            .importPackages("dev.tfs");
  }

  @Test
  void everyModuleHasClassesOnTheClasspath() {
    // A rule over an empty set passes whatever the code does: make sure each module was imported.
    for (var e : PACKAGES.entrySet()) {
      String[] pkgs = e.getValue().toArray(String[]::new);
      boolean found =
          classes.stream()
              .anyMatch(
                  c ->
                      e.getValue().stream()
                          .anyMatch(p -> c.getPackageName().startsWith(p.replace("..", ""))));
      if (!found) {
        throw new AssertionError(
            "no main classes of module " + e.getKey() + " (" + String.join(", ", pkgs) + ")");
      }
    }
  }

  @Test
  void modulesUseOnlyTheModulesTheTableAllows() {
    for (String module : PACKAGES.keySet()) {
      List<String> forbidden = new ArrayList<>();
      for (String other : PACKAGES.keySet()) {
        if (!other.equals(module) && !MAY_USE.get(module).contains(other)) {
          forbidden.addAll(PACKAGES.get(other));
        }
      }
      noClasses()
          .that()
          .resideInAnyPackage(PACKAGES.get(module).toArray(String[]::new))
          .should()
          .dependOnClassesThat()
          .resideInAnyPackage(forbidden.toArray(String[]::new))
          .because(module + " may use only " + MAY_USE.get(module) + " (DESIGN.md, Modules)")
          .check(classes);
    }
  }

  @Test
  void theJournalAndTheModulesBelowItNeverTalkToKafka() {
    // The journal is read by the source connector without FUSE or a broker client.
    noClasses()
        .that()
        .resideInAnyPackage(packagesOf("schemas", "posix", "journal"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.apache.kafka..")
        .because("schemas, posix and journal depend on Avro, jnr-ffi and the JDK only")
        .check(classes);
  }

  @Test
  void onlyTheCaptureUsesFuse() {
    noClasses()
        .that()
        .resideOutsideOfPackages(packagesOf("capture-fs", "bench"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("ru.serce.jnrfuse..")
        .because("FUSE is tfs-capture's; the bench drives its passthrough")
        .check(classes);
  }

  @Test
  void theConnectPluginsUseTheConnectApiOnly() {
    // Plugins run inside whatever worker a user has; only connect-api is a stable contract.
    noClasses()
        .that()
        .resideInAnyPackage(packagesOf("connect-common", "source-connector", "sink-connector"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.apache.kafka.connect.runtime..", "org.apache.kafka.connect.util..")
        .because("a plugin may use connect-api, not the worker's internals")
        .check(classes);
  }

  @Test
  void connectStaysOutOfTheCapture() {
    noClasses()
        .that()
        .resideInAnyPackage(packagesOf("schemas", "posix", "journal", "capture-fs"))
        .should()
        .dependOnClassesThat()
        .resideInAnyPackage("org.apache.kafka.connect..")
        .because("the mount keeps serving without Connect (DESIGN.md, Data path)")
        .check(classes);
  }

  private static String[] packagesOf(String... modules) {
    List<String> out = new ArrayList<>();
    for (String m : modules) {
      out.addAll(PACKAGES.get(m));
    }
    return out.toArray(String[]::new);
  }
}
