package dev.millrace.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code ./millrace}: the command-line entry point. Standard output carries only the documented
 * output (docs/cli.md); logs and progress go to standard error. Usage errors exit with 2.
 */
@Command(name = "millrace", mixinStandardHelpOptions = true, versionProvider = Millrace.Version.class,
        description = "Streaming data preparation for LLM training.",
        subcommands = {PrepareCommand.class, EvalCommand.class, DemoCommand.class, UpCommand.class, IngestCommand.class, TraceCommand.class, DlqCommand.class,
                BatchesCommand.class, StatusCommand.class})
public final class Millrace implements Runnable {

    public static void main(String[] args) {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        int code = run(args, out, System.err);
        out.flush();
        System.exit(code);
    }

    /** Runs one command in-process (tests call this); returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Millrace());
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            if (e instanceof UsageError) {
                err.println("millrace " + cmd.getCommandName() + ": " + e.getMessage());
                return CommandLine.ExitCode.USAGE;
            }
            if (e instanceof Failure) {
                err.println("millrace " + cmd.getCommandName() + ": failed: " + e.getMessage());
                return CommandLine.ExitCode.SOFTWARE;
            }
            err.println("millrace " + cmd.getCommandName() + ": failed: " + e);
            e.printStackTrace(err);
            return CommandLine.ExitCode.SOFTWARE;
        });
        for (CommandLine sub : cli.getSubcommands().values()) {
            Object command = sub.getCommand();
            if (command instanceof OutputAware aware) {
                aware.setStreams(out, err);
            }
        }
        return cli.execute(args);
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(new CommandLine(this), "a command is required: prepare, eval, demo, up, ingest, trace, dlq, batches or status");
    }

    /**
     * {@code --version}: "millrace" and the project version, which the build writes into
     * {@code millrace/version.properties} from the pom (the version is kept in the poms only).
     */
    static final class Version implements CommandLine.IVersionProvider {
        static final String RESOURCE = "/millrace/version.properties";

        @Override
        public String[] getVersion() {
            return new String[] {"millrace " + version()};
        }

        static String version() {
            try (InputStream in = Millrace.class.getResourceAsStream(RESOURCE)) {
                if (in == null) {
                    throw new IllegalStateException(RESOURCE + " is missing from the CLI's classes; build it with ./mvnw");
                }
                Properties p = new Properties();
                p.load(in);
                return p.getProperty("version");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    /** Commands that write documented output get the streams {@link #run} was given. */
    abstract static class OutputAware implements Runnable {
        PrintStream out = System.out;
        PrintStream err = System.err;

        final void setStreams(PrintStream out, PrintStream err) {
            this.out = out;
            this.err = err;
        }
    }

    /** A failure whose message says all there is to say (no stack trace): exit 1. */
    static final class Failure extends RuntimeException {
        Failure(String message) {
            super(message);
        }
    }

    /** A usage error found after parsing (missing folder, unreadable file, unsupported value): exit 2. */
    static final class UsageError extends RuntimeException {
        UsageError(String message) {
            super(message);
        }
    }
}
