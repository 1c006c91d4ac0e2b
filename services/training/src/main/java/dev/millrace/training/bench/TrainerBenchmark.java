package dev.millrace.training.bench;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.millrace.core.tokenizer.TokenizerFolder;
import dev.millrace.training.model.MiniMind;
import dev.millrace.training.model.ModelConfig;
import dev.millrace.training.train.AdamW;
import dev.millrace.training.train.BatchTensors;
import dev.millrace.training.train.LrSchedule;
import dev.millrace.training.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A benchmark, not a test: the time of one optimiser step (forward, backward, global-norm clip, AdamW:
 * {@link Trainer#step}) of {@code tiny} at B=16, T=128 and {@code minimind-26m} at B=8, T=512 on random ids with
 * every position trained, and the model FLOP utilisation (MFU): the model FLOPs of a step ({@link ModelFlops})
 * per second, over the peak float32 matrix-product rate DJL's own libtorch reaches on this machine, measured in
 * the same run (before and after the steps; the higher is used: a peak measured while other processes held the
 * cores would inflate the MFU).
 *
 * <p>Run it with {@code services/training/benchmark [--threads N] [--steps N] [--warmup N] [--models a,b]}
 * (see the module README). Prints a table and one {@code benchmark ...} line per model on standard output.
 */
public final class TrainerBenchmark {
    /** A model size to time: preset, rows per batch, batch T (the model reads T-1 positions), default step counts. */
    record Case(String preset, int rows, int seqLen, int warmup, int steps) {
    }

    private static final List<Case> CASES = List.of(
            new Case("tiny", 16, 128, 5, 30),
            new Case("minimind-26m", 8, 512, 1, 5));
    /** Square float32 products whose best rate is the peak (small ones to large ones: the best is usually large). */
    private static final int[] MATMUL_SIZES = {256, 512, 1024, 2048};
    private static final double MATMUL_ROUND_SECONDS = 0.3;
    private static final int MATMUL_ROUNDS = 3;

    private TrainerBenchmark() {
    }

    /** Peak rate of float32 square products: the best round over sizes, in FLOP/s. */
    record Peak(double flops, int size, String perSize) {
    }

    /** What the timed steps of one case gave. */
    record Result(Case c, ModelConfig config, long parameters, double[] stepSeconds, double firstLoss, double lastLoss) {
        int positions() {
            return c.seqLen() - 1;
        }

        long tokensPerStep() {
            return (long) c.rows() * positions();
        }

        long flopsPerStep() {
            return ModelFlops.perStep(config, c.rows(), positions());
        }

        double medianSeconds() {
            double[] sorted = stepSeconds.clone();
            Arrays.sort(sorted);
            int n = sorted.length;
            return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
        }
    }

    public static void main(String[] args) throws IOException {
        Integer threads = null;
        Integer steps = null;
        Integer warmup = null;
        List<String> models = CASES.stream().map(Case::preset).toList();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(value(args, ++i));
                case "--steps" -> steps = Integer.parseInt(value(args, ++i));
                case "--warmup" -> warmup = Integer.parseInt(value(args, ++i));
                case "--models" -> models = List.of(value(args, ++i).split(","));
                case "-h", "--help" -> {
                    System.out.println("usage: TrainerBenchmark [--threads N] [--steps N] [--warmup N] [--models tiny,minimind-26m]");
                    System.out.println("  --threads  libtorch intra-op threads (default: libtorch's own default)");
                    System.out.println("  --steps    timed steps per model (default: tiny 30, minimind-26m 5)");
                    System.out.println("  --warmup   untimed steps first (default: tiny 5, minimind-26m 1)");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + " (--help)");
            }
        }
        if ((steps != null && steps < 1) || (warmup != null && warmup < 0) || (threads != null && threads < 1)) {
            throw new IllegalArgumentException("--steps and --threads must be at least 1, --warmup at least 0");
        }
        if (threads != null) {
            // Read once, when the engine starts (PtEngine): must be set before anything touches it.
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        List<Case> cases = new ArrayList<>();
        for (String name : models) {
            Case c = CASES.stream().filter(k -> k.preset().equals(name)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown model " + name + " (tiny, minimind-26m)"));
            cases.add(new Case(c.preset(), c.rows(), c.seqLen(), warmup != null ? warmup : c.warmup(), steps != null ? steps : c.steps()));
        }

        Engine engine = Engine.getEngine("PyTorch");
        int vocab;
        int bos;
        int eos;
        int pad;
        try (TokenizerFolder tokenizer = TokenizerFolder.bundled()) {
            vocab = tokenizer.vocabSize();
            bos = tokenizer.bosId();
            eos = tokenizer.eosId();
            pad = tokenizer.padId();
        }
        String load = loadAverage();
        System.out.printf(Locale.ROOT, "trainer benchmark: DJL %s, libtorch %s on %s (%s, %d CPUs); intra-op threads %d%s, inter-op %d; "
                        + "load average at start %s; bundled tokenizer's vocabulary %d%n",
                Engine.getDjlVersion(), engine.getVersion(), engine.defaultDevice(), cpuModel(),
                Runtime.getRuntime().availableProcessors(), JniUtils.getNumThreads(), threads == null ? " (libtorch's default)" : "",
                JniUtils.getNumInteropThreads(), load, vocab);

        Peak before = peakMatmul();
        System.out.printf(Locale.ROOT, "peak float32 matmul, before the steps: %.1f GFLOP/s (n=%d; %s)%n", before.flops() / 1e9, before.size(), before.perSize());

        List<Result> results = new ArrayList<>();
        for (Case c : cases) {
            results.add(time(c, ModelConfig.preset(c.preset(), vocab, bos, eos, pad)));
        }

        Peak after = peakMatmul();
        System.out.printf(Locale.ROOT, "peak float32 matmul, after the steps:  %.1f GFLOP/s (n=%d; %s)%n", after.flops() / 1e9, after.size(), after.perSize());
        double peak = Math.max(before.flops(), after.flops());
        System.out.printf(Locale.ROOT, "load average at end %s; peak resident set %s%n%n", loadAverage(), peakResidentSet());

        System.out.printf(Locale.ROOT, "%-13s %3s %4s %5s %8s %8s %9s %22s %9s %8s %6s%n",
                "model", "B", "T", "steps", "params", "matmul", "GFLOP/step", "step s (median; range)", "tokens/s", "GFLOP/s", "MFU");
        for (Result r : results) {
            double median = r.medianSeconds();
            double achieved = r.flopsPerStep() / median;
            System.out.printf(Locale.ROOT, "%-13s %3d %4d %5d %7.2fM %7.2fM %9.1f %22s %9.0f %8.1f %5.1f%%%n",
                    r.c().preset(), r.c().rows(), r.c().seqLen(), r.stepSeconds().length, r.parameters() / 1e6,
                    ModelFlops.matmulParameters(r.config()) / 1e6, r.flopsPerStep() / 1e9,
                    String.format(Locale.ROOT, "%.4f; %.4f-%.4f", median, min(r.stepSeconds()), max(r.stepSeconds())),
                    r.tokensPerStep() / median, achieved / 1e9, 100 * achieved / peak);
        }
        System.out.println();
        for (Result r : results) {
            double median = r.medianSeconds();
            double achieved = r.flopsPerStep() / median;
            System.out.printf(Locale.ROOT, "benchmark model=%s rows=%d seq_len=%d positions=%d vocab=%d threads=%d steps=%d "
                            + "step_s_median=%.5f step_s_min=%.5f step_s_max=%.5f tokens_per_s=%.1f flops_per_step=%d "
                            + "achieved_gflops=%.2f peak_gflops=%.2f mfu=%.4f loss_first=%.4f loss_last=%.4f%n",
                    r.c().preset(), r.c().rows(), r.c().seqLen(), r.positions(), r.config().vocabSize(), JniUtils.getNumThreads(),
                    r.stepSeconds().length, median, min(r.stepSeconds()), max(r.stepSeconds()), r.tokensPerStep() / median,
                    r.flopsPerStep(), achieved / 1e9, peak / 1e9, achieved / peak, r.firstLoss(), r.lastLoss());
        }
    }

    /** Warm-up steps, then timed ones, each {@link Trainer#step} on its own batch of random ids. */
    static Result time(Case c, ModelConfig config) {
        Random random = new Random(42);
        int n = c.seqLen() - 1;
        List<BatchTensors> batches = new ArrayList<>();
        for (int b = 0; b < 4; b++) {
            long[] inputs = new long[c.rows() * n];
            long[] targets = new long[c.rows() * n];
            float[] weights = new float[c.rows() * n];
            for (int r = 0; r < c.rows(); r++) {
                long[] ids = random.longs(c.seqLen(), 0, config.vocabSize()).toArray();
                System.arraycopy(ids, 0, inputs, r * n, n);
                System.arraycopy(ids, 1, targets, r * n, n);
            }
            Arrays.fill(weights, 1f);
            batches.add(new BatchTensors("benchmark-" + b, c.rows(), n, inputs, targets, weights, null, null));
        }
        try (MiniMind model = MiniMind.initialise(config, 1); AdamW adamw = new AdamW(AdamW.Settings.defaults(), model.weights())) {
            Trainer trainer = new Trainer(model, adamw, Trainer.Settings.defaults(LrSchedule.constant(1e-3, 0)), 0);
            double[] seconds = new double[c.steps()];
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            for (int i = 0; i < c.warmup() + c.steps(); i++) {
                long started = System.nanoTime();
                Trainer.StepResult step = trainer.step(List.of(batches.get(i % batches.size())));
                double elapsed = (System.nanoTime() - started) / 1e9;
                if (i == 0) {
                    firstLoss = step.loss();
                }
                lastLoss = step.loss();
                if (i >= c.warmup()) {
                    seconds[i - c.warmup()] = elapsed;
                }
                System.err.printf(Locale.ROOT, "  %s step %d%s: %.4f s, loss %.4f%n", c.preset(), i + 1, i < c.warmup() ? " (warm-up)" : "", elapsed, step.loss());
            }
            return new Result(c, config, model.parameterCount(), seconds, firstLoss, lastLoss);
        }
    }

    /** The best rate of square float32 products over {@link #MATMUL_SIZES}: a warm-up round, then timed rounds. */
    static Peak peakMatmul() {
        double best = 0;
        int bestSize = 0;
        StringBuilder perSize = new StringBuilder();
        try (NDManager manager = NDManager.newBaseManager()) {
            for (int size : MATMUL_SIZES) {
                NDArray a = manager.randomUniform(-1, 1, new Shape(size, size), DataType.FLOAT32);
                NDArray b = manager.randomUniform(-1, 1, new Shape(size, size), DataType.FLOAT32);
                double flopsEach = 2.0 * size * size * size;
                matmulRound(a, b, flopsEach, 0.1); // warm-up: threads started, caches and pages touched
                double sizeBest = 0;
                for (int round = 0; round < MATMUL_ROUNDS; round++) {
                    sizeBest = Math.max(sizeBest, matmulRound(a, b, flopsEach, MATMUL_ROUND_SECONDS));
                }
                perSize.append(perSize.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "n=%d %.1f", size, sizeBest / 1e9));
                if (sizeBest > best) {
                    best = sizeBest;
                    bestSize = size;
                }
                a.close();
                b.close();
            }
        }
        return new Peak(best, bestSize, perSize.toString());
    }

    /** Products of a and b for at least {@code seconds}; their rate in FLOP/s. CPU libtorch runs each eagerly. */
    private static double matmulRound(NDArray a, NDArray b, double flopsEach, double seconds) {
        long started = System.nanoTime();
        long count = 0;
        double elapsed;
        do {
            a.matMul(b).close();
            count++;
            elapsed = (System.nanoTime() - started) / 1e9;
        } while (elapsed < seconds);
        return count * flopsEach / elapsed;
    }

    private static String value(String[] args, int i) {
        if (i >= args.length) {
            throw new IllegalArgumentException(args[i - 1] + " needs a value");
        }
        return args[i];
    }

    private static double min(double[] v) {
        return Arrays.stream(v).min().orElse(Double.NaN);
    }

    private static double max(double[] v) {
        return Arrays.stream(v).max().orElse(Double.NaN);
    }

    private static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    /** VmHWM of this process (Linux): the most memory the run held, the largest model's steps in practice. */
    private static String peakResidentSet() {
        try {
            return Files.readAllLines(Path.of("/proc/self/status")).stream()
                    .filter(l -> l.startsWith("VmHWM:"))
                    .map(l -> String.format(Locale.ROOT, "%.2f GB", Long.parseLong(l.replaceAll("\\D", "")) * 1024 / 1e9))
                    .findFirst().orElse("unknown");
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String cpuModel() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                    .filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst().orElse("unknown CPU");
        } catch (IOException e) {
            return "unknown CPU";
        }
    }
}
