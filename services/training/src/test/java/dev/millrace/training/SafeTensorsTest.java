package dev.millrace.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.millrace.training.checkpoint.SafeTensors;
import dev.millrace.training.checkpoint.SafeTensors.Tensor;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripKeepsNamesShapesValuesOrderAndMetadata() throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        tensors.put("b.weight", new Tensor(new long[] {2, 3}, new float[] {1, -2, 3.5f, Float.MIN_VALUE, -0f, 1e30f}));
        tensors.put("a.weight", new Tensor(new long[] {1}, new float[] {42}));
        tensors.put("scalar", new Tensor(new long[] {}, new float[] {7}));
        Path file = dir.resolve("t.safetensors");
        SafeTensors.write(file, tensors, Map.of("format", "pt"));

        Map<String, Tensor> back = SafeTensors.read(file);
        assertThat(back.keySet()).containsExactly("b.weight", "a.weight", "scalar");
        for (String name : tensors.keySet()) {
            assertThat(back.get(name).shape()).containsExactly(tensors.get(name).shape());
            assertThat(back.get(name).data()).containsExactly(tensors.get(name).data());
        }
        assertThat(SafeTensors.metadata(file)).containsExactlyEntriesOf(Map.of("format", "pt"));

        // The layout itself: 8-byte little-endian header length (a multiple of 8), JSON, then 4 bytes per value.
        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(headerLength % 8).isZero();
        assertThat(bytes.length).isEqualTo(8 + headerLength + 4 * 8);
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);
        assertThat(header).contains("\"b.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}");
        assertThat(ByteBuffer.wrap(bytes, 8 + (int) headerLength, 4).order(ByteOrder.LITTLE_ENDIAN).getFloat()).isEqualTo(1f);
    }

    @Test
    void readsHalfAndBfloat16AsFloat() throws IOException {
        // 1.0, -2.5, 65504 (largest half), the smallest subnormal half; bf16: 1.0, -3.0
        short[] half = {0x3c00, (short) 0xc100, 0x7bff, 0x0001};
        short[] bf16 = {0x3f80, (short) 0xc040};
        String header = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]}}";
        ByteBuffer data = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
        for (short s : half) {
            data.putShort(s);
        }
        for (short s : bf16) {
            data.putShort(s);
        }
        Path file = write(header, data.array());

        Map<String, Tensor> back = SafeTensors.read(file);
        assertThat(back.get("h").data()).containsExactly(1f, -2.5f, 65504f, (float) Math.pow(2, -24));
        assertThat(back.get("b").data()).containsExactly(1f, -3f);
    }

    @Test
    void refusesWhatIsNotAWellFormedFile() throws IOException {
        Path garbage = dir.resolve("garbage");
        Files.write(garbage, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, 0, 0, 0, 0, 1});
        assertThatThrownBy(() -> SafeTensors.read(garbage)).hasMessageContaining("not a safetensors file");

        Path outOfRange = write("{\"x\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", new byte[8]);
        assertThatThrownBy(() -> SafeTensors.read(outOfRange)).hasMessageContaining("tensor x").hasMessageContaining("data_offsets");

        Path wrongSize = write("{\"x\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafeTensors.read(wrongSize)).hasMessageContaining("tensor x");

        Path ints = write("{\"x\":{\"dtype\":\"I64\",\"shape\":[1],\"data_offsets\":[0,8]}}", new byte[8]);
        assertThatThrownBy(() -> SafeTensors.read(ints)).hasMessageContaining("dtype I64");
    }

    private Path write(String header, byte[] data) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer out = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(json.length).put(json).put(data);
        Path file = Files.createTempFile(dir, "t", ".safetensors");
        Files.write(file, out.array());
        return file;
    }
}
