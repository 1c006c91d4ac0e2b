package dev.millrace.core.template;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizerConfigTest {
    @TempDir
    Path folder;

    private TokenizerConfig load(String singleQuotedConfig) throws Exception {
        Files.writeString(folder.resolve("tokenizer_config.json"), singleQuotedConfig.replace('\'', '"'));
        return TokenizerConfig.load(folder);
    }

    // --- special tokens --------------------------------------------------------------------------

    @Test
    void specialTokensGivenAsStrings() throws Exception {
        TokenizerConfig cfg = load("{'bos_token': '<|im_start|>', 'eos_token': '<|im_end|>', 'pad_token': '<|endoftext|>', 'unk_token': '<unk>'}");

        assertThat(cfg.specialTokens()).containsOnly(
                Map.entry("bos_token", "<|im_start|>"), Map.entry("eos_token", "<|im_end|>"),
                Map.entry("pad_token", "<|endoftext|>"), Map.entry("unk_token", "<unk>"));
    }

    @Test
    void specialTokensGivenAsContentObjectsAreReducedToTheString() throws Exception {
        TokenizerConfig cfg = load("{'bos_token': {'__type': 'AddedToken', 'content': '<s>', 'lstrip': false, 'normalized': true},"
                + " 'eos_token': {'content': '</s>'}}");

        assertThat(cfg.specialTokens()).containsOnly(Map.entry("bos_token", "<s>"), Map.entry("eos_token", "</s>"));
    }

    @Test
    void nullEmptyAndAbsentSpecialTokensAreLeftOut() throws Exception {
        TokenizerConfig cfg = load("{'bos_token': null, 'eos_token': '', 'pad_token': {'content': null}, 'unk_token': '<unk>'}");

        assertThat(cfg.specialTokens()).containsOnlyKeys("unk_token");
        assertThat(cfg.templateVariables()).doesNotContainKeys("bos_token", "eos_token", "pad_token", "sep_token");
    }

    @Test
    void onlyTheKnownSpecialTokenNamesAreRead() throws Exception {
        TokenizerConfig cfg = load("{'eos_token': '</s>', 'model_max_length': 512, 'image_token': '<img>'}");

        assertThat(cfg.specialTokens()).containsOnlyKeys("eos_token");
    }

    @Test
    void additionalSpecialTokensMayMixStringsAndObjects() throws Exception {
        TokenizerConfig cfg = load("{'additional_special_tokens': ['<a>', {'content': '<b>'}, '', null]}");

        assertThat(cfg.additionalSpecialTokens()).containsExactly("<a>", "<b>");
        assertThat(cfg.templateVariables()).containsEntry("additional_special_tokens", List.of("<a>", "<b>"));
    }

    @Test
    void noAdditionalSpecialTokensMeansNoSuchVariable() throws Exception {
        TokenizerConfig cfg = load("{'eos_token': '</s>'}");

        assertThat(cfg.templateVariables()).containsOnly(Map.entry("eos_token", "</s>"));
    }

    // --- chat templates --------------------------------------------------------------------------

    @Test
    void aStringChatTemplateIsTheDefault() throws Exception {
        TokenizerConfig cfg = load("{'chat_template': 'T'}");

        assertThat(cfg.chatTemplates()).containsOnly(Map.entry("default", "T"));
        assertThat(cfg.selectTemplate(false)).isEqualTo("T");
        assertThat(cfg.selectTemplate(true)).isEqualTo("T");
    }

    @Test
    void aListOfNamedTemplatesIsReadByName() throws Exception {
        TokenizerConfig cfg = load("{'chat_template': [{'name': 'default', 'template': 'D'}, {'name': 'tool_use', 'template': 'T'},"
                + " {'name': 'rag', 'template': 'R'}]}");

        assertThat(cfg.chatTemplates()).containsExactly(Map.entry("default", "D"), Map.entry("tool_use", "T"), Map.entry("rag", "R"));
        assertThat(cfg.selectTemplate(false)).isEqualTo("D");
        assertThat(cfg.selectTemplate(true)).isEqualTo("T");
    }

    @Test
    void namedTemplatesWithoutDefaultCannotBeSelectedWithoutTools() throws Exception {
        TokenizerConfig cfg = load("{'chat_template': [{'name': 'tool_use', 'template': 'T'}]}");

        assertThat(cfg.selectTemplate(true)).isEqualTo("T");
        assertThatThrownBy(() -> cfg.selectTemplate(false)).isInstanceOf(IllegalStateException.class).hasMessageContaining("default");
    }

    @Test
    void chatTemplateJinjaBesideTheConfigIsUsedWhenTheConfigHasNone() throws Exception {
        String source = "{% for m in messages %}{{ m.content }}\n{% endfor %}\n";
        Files.writeString(folder.resolve("chat_template.jinja"), source);

        TokenizerConfig cfg = load("{'eos_token': '</s>'}");

        assertThat(cfg.chatTemplates()).containsOnly(Map.entry("default", source));
    }

    @Test
    void chatTemplateJinjaIsReadAsUtf8() throws Exception {
        Files.writeString(folder.resolve("chat_template.jinja"), "你好{{ bos_token }}");

        assertThat(load("{}").selectTemplate(false)).isEqualTo("你好{{ bos_token }}");
    }

    @Test
    void aChatTemplateInTheConfigWinsOverTheJinjaFile() throws Exception {
        // As HF (and src/test/python/render_reference.py) does: the file is used only when the config has no chat_template.
        Files.writeString(folder.resolve("chat_template.jinja"), "FILE");

        assertThat(load("{'chat_template': 'CONFIG'}").selectTemplate(false)).isEqualTo("CONFIG");
    }

    @Test
    void aNullChatTemplateFallsBackToTheJinjaFile() throws Exception {
        Files.writeString(folder.resolve("chat_template.jinja"), "FILE");

        assertThat(load("{'chat_template': null}").selectTemplate(false)).isEqualTo("FILE");
    }

    @Test
    void chatTemplateJsonBesideTheConfigIsUsedWhenThereIsNoJinjaFile() throws Exception {
        Files.writeString(folder.resolve("chat_template.json"), "{\"chat_template\": \"FROM_JSON\"}");

        assertThat(load("{}").selectTemplate(false)).isEqualTo("FROM_JSON");
    }

    @Test
    void chatTemplateJsonWithoutTheKeyMeansNoTemplate() throws Exception {
        Files.writeString(folder.resolve("chat_template.json"), "{\"something_else\": 1}");

        TokenizerConfig cfg = load("{}");

        assertThat(cfg.chatTemplates()).isEmpty();
    }

    @Test
    void noTemplateAnywhereCannotBeSelected() throws Exception {
        TokenizerConfig cfg = load("{'eos_token': '</s>'}");

        assertThat(cfg.chatTemplates()).isEmpty();
        assertThatThrownBy(() -> cfg.selectTemplate(false)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("chat_template");
    }

    @Test
    void aFolderWithoutTokenizerConfigLoadsEmpty() throws Exception {
        TokenizerConfig cfg = TokenizerConfig.load(folder);

        assertThat(cfg.specialTokens()).isEmpty();
        assertThat(cfg.additionalSpecialTokens()).isEmpty();
        assertThat(cfg.chatTemplates()).isEmpty();
    }
}
