package dev.millrace.trainer;

import dev.millrace.contract.SettingNames;
import io.smallrye.config.SmallRyeConfigBuilder;
import io.smallrye.config.SmallRyeConfigBuilderCustomizer;

/**
 * Lets the keys the pipeline services read (and {@code millrace.repo.root}) through SmallRye's unknown-key
 * check, which stops the trainer on any other key under {@code millrace.} that {@link TrainerConfig} does not
 * map: contract's {@link SettingNames#letThroughTrainer}, the one list of which service reads which key.
 * Registered in META-INF/services, where Quarkus finds it.
 */
public final class TrainerOtherServicesSettings implements SmallRyeConfigBuilderCustomizer {
    @Override
    public void configBuilder(SmallRyeConfigBuilder builder) {
        SettingNames.letThroughTrainer().forEach(builder::withMappingIgnore);
    }
}
