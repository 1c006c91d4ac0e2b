package dev.millrace.core.template;

import com.fasterxml.jackson.databind.JsonNode;
import dev.millrace.core.json.StrictJson;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What Millrace needs from a tokenizer folder's {@code tokenizer_config.json}: the chat
 * template(s) and the special tokens. Special tokens may be plain strings or
 * {@code {"content": ...}} objects; the chat template may be a string, a list of named templates,
 * or live in {@code chat_template.jinja} / {@code chat_template.json} beside the config.
 */
public record TokenizerConfig(Map<String, String> chatTemplates, Map<String, String> specialTokens,
                              List<String> additionalSpecialTokens) {

    public static final List<String> SPECIAL_TOKEN_NAMES =
            List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token");

    public static TokenizerConfig load(Path folder) throws IOException {
        Path file = folder.resolve("tokenizer_config.json");
        JsonNode cfg = Files.exists(file) ? StrictJson.MAPPER.readTree(file.toFile()) : StrictJson.MAPPER.createObjectNode();
        Map<String, String> specials = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKEN_NAMES) {
            String value = tokenContent(cfg.get(name));
            if (value != null && !value.isEmpty()) {
                specials.put(name, value);
            }
        }
        List<String> additional = new ArrayList<>();
        JsonNode extra = cfg.get("additional_special_tokens");
        if (extra != null && extra.isArray()) {
            extra.forEach(t -> {
                String v = tokenContent(t);
                if (v != null && !v.isEmpty()) {
                    additional.add(v);
                }
            });
        }
        return new TokenizerConfig(templates(cfg.get("chat_template"), folder), specials, additional);
    }

    private static Map<String, String> templates(JsonNode node, Path folder) throws IOException {
        Map<String, String> out = new LinkedHashMap<>();
        if (node == null || node.isNull()) {
            Path jinja = folder.resolve("chat_template.jinja");
            Path json = folder.resolve("chat_template.json");
            if (Files.exists(jinja)) {
                out.put("default", Files.readString(jinja));
            } else if (Files.exists(json)) {
                JsonNode fromFile = StrictJson.MAPPER.readTree(json.toFile()).get("chat_template");
                if (fromFile != null && !fromFile.isNull()) {
                    return templates(fromFile, folder);
                }
            }
        } else if (node.isTextual()) {
            out.put("default", node.asText());
        } else if (node.isArray()) {
            for (JsonNode entry : node) {
                out.put(entry.path("name").asText(), entry.path("template").asText());
            }
        } else if (node.isObject()) {
            node.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        }
        return out;
    }

    static String tokenContent(JsonNode value) {
        if (value == null || value.isNull()) {
            return null;
        }
        if (value.isObject()) {
            JsonNode content = value.get("content");
            return content == null || content.isNull() ? null : content.asText();
        }
        return value.asText();
    }

    /**
     * The template HF would pick: {@code tool_use} when tools are given and it exists, else {@code default}.
     */
    public String selectTemplate(boolean hasTools) {
        if (chatTemplates.isEmpty()) {
            throw new IllegalStateException("the tokenizer folder has no chat_template");
        }
        if (hasTools && chatTemplates.containsKey("tool_use")) {
            return chatTemplates.get("tool_use");
        }
        String template = chatTemplates.get("default");
        if (template == null) {
            throw new IllegalStateException("chat_template has the named templates " + chatTemplates.keySet() + " but no 'default'");
        }
        return template;
    }

    /** Template variables for the special tokens, as transformers exposes them. */
    public Map<String, Object> templateVariables() {
        Map<String, Object> vars = new LinkedHashMap<>(specialTokens);
        if (!additionalSpecialTokens.isEmpty()) {
            vars.put("additional_special_tokens", additionalSpecialTokens);
        }
        return vars;
    }
}
