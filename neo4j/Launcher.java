import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.neo4j.dbms.api.DatabaseManagementService;
import org.neo4j.server.CommunityBootstrapper;

/**
 * Starts Neo4j Community as a local server for hubble-graph: Bolt (and HTTP with Neo4j Browser) on
 * the addresses given as system properties, data under hg.home, and the neo4j user's password set
 * to the first line of standard input so that no interactive first login is needed. The password
 * never appears on the command line, where `ps` would show it to every user of the machine.
 *
 * Run as a single-file program (java -cp 'target/lib/*' Launcher.java); src/graph/local-neo4j.ts
 * builds the command line. The process stays in the foreground until SIGTERM or SIGINT.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    String password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    if (password == null || password.isEmpty()) {
      throw new IllegalArgumentException("the neo4j password is expected as the first line of standard input");
    }
    Path home = Path.of(required("hg.home")).toAbsolutePath();
    Files.createDirectories(home.resolve("conf"));
    Path conf = home.resolve("conf/neo4j.conf");
    if (!Files.exists(conf)) {
      Files.writeString(conf, "# settings come from the hubble-graph launcher\n");
    }

    Map<String, String> settings = new HashMap<>();
    settings.put("server.directories.data", home.resolve("data").toString());
    settings.put("server.directories.logs", home.resolve("logs").toString());
    settings.put("server.directories.run", home.resolve("run").toString());
    settings.put("server.directories.plugins", home.resolve("plugins").toString());
    settings.put("server.directories.import", home.resolve("import").toString());
    settings.put("server.bolt.enabled", "true");
    settings.put("server.bolt.listen_address", required("hg.bolt"));
    settings.put("server.bolt.advertised_address", required("hg.bolt"));
    String http = System.getProperty("hg.http", "");
    settings.put("server.http.enabled", String.valueOf(!http.isEmpty()));
    if (!http.isEmpty()) {
      settings.put("server.http.listen_address", http);
      settings.put("server.http.advertised_address", http);
    }
    settings.put("server.https.enabled", "false");
    settings.put("server.memory.pagecache.size", System.getProperty("hg.pagecache", "256m"));
    settings.put("dbms.security.auth_enabled", "true");
    settings.put("dbms.usage_report.enabled", "false");
    settings.put("db.tx_log.rotation.retention_policy", "2 files");
    // Where Neo4j Browser may fetch guides and styles from (hubble-graph's are served by its API).
    String remoteHosts = System.getProperty("hg.remoteContentHosts", "");
    if (!remoteHosts.isEmpty()) {
      // Neo4j 5.26 still names it "whitelist"; Browser 5 reads it under both names.
      settings.put("browser.remote_content_hostname_whitelist", remoteHosts);
    }

    CommunityBootstrapper bootstrapper = new CommunityBootstrapper();
    int status = bootstrapper.start(home, conf, settings, false, false);
    if (status != 0) {
      System.err.println("hubble-graph launcher: Neo4j did not start (status " + status + "), see " + home.resolve("logs"));
      System.exit(status);
    }
    setPassword(bootstrapper.getDatabaseManagementService(), password);
    Runtime.getRuntime().addShutdownHook(new Thread(bootstrapper::stop, "hubble-graph-neo4j-stop"));
    System.out.println("hubble-graph launcher: Neo4j ready, bolt://" + required("hg.bolt"));
    Thread.currentThread().join();
  }

  /** The embedded API runs without authentication, so it may set the password the server will ask for. */
  private static void setPassword(DatabaseManagementService dbms, String password) {
    try {
      dbms.database("system").executeTransactionally(
          "ALTER USER neo4j SET PLAINTEXT PASSWORD $password CHANGE NOT REQUIRED", Map.of("password", password));
    } catch (RuntimeException e) {
      // Setting the password it already has is refused by Neo4j; that case needs nothing.
      if (!String.valueOf(e.getMessage()).contains("same")) {
        System.err.println("hubble-graph launcher: could not set the password: " + e.getMessage());
      }
    }
  }

  private static String required(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("system property " + name + " is required");
    }
    return value;
  }
}
