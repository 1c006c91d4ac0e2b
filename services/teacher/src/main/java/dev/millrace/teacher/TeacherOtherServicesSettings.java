package dev.millrace.teacher;

import dev.millrace.contract.SettingNames;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;

/**
 * Lets the keys the other services read (and {@code millrace.repo.root}) through SmallRye's unknown-key check,
 * which stops the teacher on any other key under {@code millrace.} that {@link TeacherConfig} does not map:
 * contract's {@link SettingNames#letThroughTeacher}. Registered in META-INF/services, where Quarkus finds it.
 */
public final class TeacherOtherServicesSettings implements SmallRyeConfigBuilderCustomizer {
    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        SettingNames.letThroughTeacher().forEach(builder::withMappingIgnore);
    }
}
