package dev.millrace.core.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.millrace.core.record.Reason;
import dev.millrace.core.record.RecordRejected;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The role-order rows of SFT rule 1 (docs/semantics.md#sft-rule-1-reading-the-conversation), on messages already mapped to role/content. */
class RoleRulesTest {

    /** Messages from their roles, e.g. {@code roles("system", "user", "assistant")}. */
    private static List<Map<String, Object>> roles(String... roles) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (String r : roles) {
            Map<String, Object> m = new HashMap<>();
            m.put("role", r);
            m.put("content", "x");
            out.add(m);
        }
        return out;
    }

    private static RecordRejected rejection(String... roles) {
        return catchThrowableOfType(RecordRejected.class, () -> RoleRules.check(roles(roles), "messages", true));
    }

    private static void assertAccepted(String... roles) {
        assertThatCode(() -> RoleRules.check(roles(roles), "messages", true)).as(String.join(",", roles))
                .doesNotThrowAnyException();
    }

    @Test
    void userThenAssistantIsAccepted() {
        assertAccepted("user", "assistant");
    }

    @Test
    void aLeadingSystemMessageIsAccepted() {
        assertAccepted("system", "user", "assistant");
    }

    @Test
    void multiTurnIsAccepted() {
        assertAccepted("system", "user", "assistant", "user", "assistant");
    }

    @Test
    void aTrailingUserAfterAnAssistantTurnIsAccepted() {
        assertAccepted("user", "assistant", "user");
    }

    @Test
    void toolAfterAssistantAndToolAfterToolAreAccepted() {
        assertAccepted("user", "assistant", "tool", "tool", "assistant");
    }

    @Test
    void anEmptyListIsEmptyConversation() {
        assertThat(rejection().reason()).isEqualTo(Reason.EMPTY_CONVERSATION);
    }

    @ParameterizedTest
    @ValueSource(strings = {"bot", "User", "human", "gpt", "function", ""})
    void aRoleOutsideSystemUserAssistantToolIsUnknownRole(String role) {
        RecordRejected e = rejection("user", role);

        assertThat(e).as(role).isNotNull();
        assertThat(e.reason()).isEqualTo(Reason.UNKNOWN_ROLE);
        assertThat(e.getMessage()).contains("messages[1]").contains("\"" + role + "\"");
    }

    @Test
    void anUnknownRoleWinsOverAnOrderProblemEarlierInTheList() {
        assertThat(rejection("assistant", "user", "bot").reason()).isEqualTo(Reason.UNKNOWN_ROLE);
    }

    @Test
    void systemNotFirstIsRoleOrder() {
        RecordRejected e = rejection("user", "assistant", "system");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("messages[2]").contains("system");
    }

    @Test
    void twoSystemMessagesAreRoleOrder() {
        assertThat(rejection("system", "system", "user", "assistant").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void startingWithAssistantIsRoleOrder() {
        assertThat(rejection("assistant", "user", "assistant").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void startingWithAssistantAfterSystemIsRoleOrder() {
        RecordRejected e = rejection("system", "assistant");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("messages[1]");
    }

    @Test
    void startingWithToolIsRoleOrder() {
        assertThat(rejection("tool", "assistant").reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(rejection("system", "tool", "assistant").reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void twoUsersInARowIsRoleOrder() {
        RecordRejected e = rejection("user", "user", "assistant");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("messages[1]");
    }

    @Test
    void twoAssistantsInARowIsRoleOrder() {
        RecordRejected e = rejection("user", "assistant", "assistant");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("messages[2]");
    }

    @Test
    void toolAfterUserIsRoleOrder() {
        RecordRejected e = rejection("user", "tool", "assistant");

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
        assertThat(e.getMessage()).contains("messages[1]").contains("tool");
    }

    @Test
    void userRightAfterToolIsAccepted() {
        // Only two users or two assistants in a row are forbidden; tool -> user is not.
        assertAccepted("user", "assistant", "tool", "user", "assistant");
    }

    @Test
    void noAssistantMessageIsNoTrainableTokens() {
        assertThat(rejection("system", "user").reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
        assertThat(rejection("user").reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
    }

    @Test
    void aSystemMessageAloneIsNoTrainableTokens() {
        assertThat(rejection("system").reason()).isEqualTo(Reason.NO_TRAINABLE_TOKENS);
    }

    @Test
    void noAssistantIsAcceptedWhenNoneIsRequired() {
        assertThatCode(() -> RoleRules.check(roles("system", "user"), "messages", false)).doesNotThrowAnyException();
    }

    @Test
    void orderIsStillCheckedWhenNoAssistantIsRequired() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class,
                () -> RoleRules.check(roles("user", "user"), "messages", false));

        assertThat(e.reason()).isEqualTo(Reason.ROLE_ORDER);
    }

    @Test
    void theFieldNameAppearsInMessages() {
        RecordRejected e = catchThrowableOfType(RecordRejected.class,
                () -> RoleRules.check(roles("user", "user"), "conversations", true));

        assertThat(e.getMessage()).contains("conversations[1]");
    }

    @Test
    void aMessageWithoutARoleIsRejectedNotACrash() {
        List<Map<String, Object>> messages = roles("user", "assistant");
        messages.get(1).remove("role");

        RecordRejected e = catchThrowableOfType(RecordRejected.class, () -> RoleRules.check(messages, "messages", true));

        assertThat(e).isNotNull();
        assertThat(e.reason()).isIn(Reason.MISSING_FIELD, Reason.UNKNOWN_ROLE);
    }
}
