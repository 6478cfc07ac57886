/**
 * The suite file as written, generated from schema/suite.schema.json by json-schema-to-typescript
 * (test/config/schema-types.ts). Do not edit: change the schema and run `npm run docs`.
 * src/config/types.ts derives the loaded, unit-converted config from these types.
 */

/**
 * A list of scenarios run in order on one rig (airlock suite). Paths are relative to the suite file.
 */
export interface AirlockSuite {
  /**
   * Name of the suite (used in the suite directory name and in JUnit).
   */
  suite: string;
  description?: string;
  /**
   * Rig file (relative to the suite file). --rig overrides it; without either, each scenario's own rig or rig/virtual.yaml.
   */
  rig?: string;
  /**
   * Default firmware per device (DEVICE: profile, command or image file); --firmware overrides it.
   */
  firmware?: {
    [k: string]: string;
  };
  /**
   * @minItems 1
   */
  scenarios: {
    /**
     * Scenario file (relative to the suite file).
     */
    scenario: string;
    /**
     * Scenario parameters, as --set NAME=VALUE.
     */
    set?: {
      [k: string]: string | number | boolean;
    };
  }[];
}
