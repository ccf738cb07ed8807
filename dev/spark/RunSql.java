// Runs a Spark SQL script on Spark local with the offline store's Iceberg catalog:
//   java -cp '<spark libs>/*' dev/spark/RunSql.java <warehouse> <script.sql> [key=value ...]
// `strata` names the warehouse's Hadoop catalog, so tables read `strata.strata_<project>.<view>_v<major>`.
// Statements end with a line that is only ";". `${key}` in the script is replaced by the value.
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;

public class RunSql {
  public static void main(String[] args) throws Exception {
    if (args.length < 2) {
      System.err.println("usage: RunSql <warehouse> <script.sql> [key=value ...]");
      System.exit(2);
    }
    String script = Files.readString(Path.of(args[1]));
    for (int i = 2; i < args.length; i++) {
      int eq = args[i].indexOf('=');
      script = script.replace("${" + args[i].substring(0, eq) + "}", args[i].substring(eq + 1));
    }
    SparkSession spark =
        SparkSession.builder()
            .appName("strata-training-set")
            .master(System.getProperty("spark.master", "local[2]"))
            .config("spark.ui.enabled", "false")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.sql.shuffle.partitions", "4")
            .config(
                "spark.sql.extensions",
                "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions")
            .config("spark.sql.catalog.strata", "org.apache.iceberg.spark.SparkCatalog")
            .config("spark.sql.catalog.strata.type", "hadoop")
            .config("spark.sql.catalog.strata.warehouse", args[0])
            .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    try {
      for (String statement : script.split("(?m)^;\\s*$")) {
        if (statement.strip().isEmpty()) continue;
        spark.sql(statement).show(20, false);
      }
    } finally {
      spark.stop();
    }
  }
}
