/**
 * The scenario file as written, generated from schema/scenario.schema.json by json-schema-to-typescript
 * (test/config/schema-types.ts). Do not edit: change the schema and run `npm run docs`.
 * src/config/types.ts derives the loaded, unit-converted config from these types.
 */

export type Name = string;
/**
 * A duration with its unit: 500ms, 30s, 10m, 2h.
 */
export type Duration = string;
/**
 * A number written as a parameter: ${name}.
 */
export type ParamRef = string;
/**
 * A current with its unit: 250uA, 50mA, 3A.
 */
export type Current = string;
/**
 * -70dBm, or floor+10dB above the band's noise floor.
 */
export type Threshold = string;

/**
 * Phases of steps, and what must hold in each. Units are always written: 30s, 50mA, -70dBm. ${name} inserts a parameter.
 */
export interface AirlockScenarioFile {
  scenario: Name;
  description?: string;
  /**
   * Rig file, relative to this file.
   */
  rig?: string;
  /**
   * Parameter defaults; ${name} uses one, --set name=value overrides it.
   */
  params?: {
    [k: string]: string | number;
  };
  /**
   * Settings under test, recorded as evidence.
   */
  settings?: {
    [k: string]: string | number | boolean;
  };
  /**
   * Margin trimmed at both ends of a phase before judging it. Default 500ms.
   */
  settle?: string;
  /**
   * @minItems 1
   */
  phases: {
    name: string;
    description?: string;
    /**
     * @minItems 1
     *
     * Items: One step: exactly one key.
     */
    steps: {
      /**
       * Switch a power channel. Default timeout 10s.
       */
      power?: {
        /**
         * A key of the rig's power.
         */
        channel: string;
        action: "on" | "off" | "cycle";
        /**
         * Off time of a cycle. Default 2s.
         */
        off_time?: string;
        /**
         * Step timeout (overrides the step's default).
         */
        timeout?: string;
      };
      /**
       * Press a button. Default pattern short, timeout 10s.
       */
      press?: {
        /**
         * A key of the rig's buttons.
         */
        button: string;
        /**
         * short, long, double, short-long, or durations alternating closed/open starting closed.
         */
        pattern?: ("short" | "long" | "double" | "short-long") | Duration[];
        /**
         * A duration with its unit: 500ms, 30s, 10m, 2h.
         */
        timeout?: string;
      };
      /**
       * Wait for one condition. Default timeout 30s.
       */
      wait_for?: {
        /**
         * A link name.
         */
        heartbeat?: string;
        /**
         * A link name.
         */
        armed?: string;
        /**
         * A link name.
         */
        disarmed?: string;
        /**
         * A link name.
         */
        landed?: string;
        altitude_above?: {
          link: string;
          meters: number | ParamRef;
        };
        current_above?: {
          channel: string;
          limit: Current;
        };
        current_below?: {
          channel: string;
          limit: Current;
        };
        console?: {
          device: string;
          /**
           * A regular expression.
           */
          pattern: string;
        };
        /**
         * A duration with its unit: 500ms, 30s, 10m, 2h.
         */
        timeout?: string;
      };
      /**
       * Stay in this state for a duration. Default timeout: the duration + 5s.
       */
      dwell?:
        | Duration
        | {
            duration: Duration;
            /**
             * A duration with its unit: 500ms, 30s, 10m, 2h.
             */
            timeout?: string;
          };
      /**
       * Send a MAVLink command. Default timeout 30s.
       */
      mavlink?: {
        link: string;
        /**
         * arm, disarm, takeoff, land, mode...
         */
        command: string;
        params?: {
          [k: string]: number | string;
        };
        /**
         * A duration with its unit: 500ms, 30s, 10m, 2h.
         */
        timeout?: string;
        /**
         * Default 3.
         */
        retries?: number | ParamRef;
      };
      /**
       * Put a mark on the timeline. Default timeout 1s.
       */
      mark?:
        | string
        | {
            text: string;
            /**
             * A duration with its unit: 500ms, 30s, 10m, 2h.
             */
            timeout?: string;
          };
      /**
       * Ask the technician to do something. Default timeout 10m.
       */
      prompt?:
        | string
        | {
            text: string;
            /**
             * A duration with its unit: 500ms, 30s, 10m, 2h.
             */
            timeout?: string;
          };
      /**
       * Send a named action to a device. Default timeout 10s.
       */
      device?: {
        /**
         * A device of the rig.
         */
        device: string;
        /**
         * e.g. app: background
         */
        action: string;
        /**
         * A duration with its unit: 500ms, 30s, 10m, 2h.
         */
        timeout?: string;
      };
      /**
       * Switch a lab service. Default timeout 10s.
       */
      lab?: {
        uplink?: "on" | "off";
        "update-server"?: "on" | "off";
        /**
         * A duration with its unit: 500ms, 30s, 10m, 2h.
         */
        timeout?: string;
      };
    }[];
    /**
     * Items: One assertion: exactly one key.
     */
    assert?: {
      /**
       * No packet leaves the lab.
       */
      no_egress?: {
        allow_names?: string[];
        devices?: string[];
      } | null;
      /**
       * No DNS query for a name outside .local and the allowed names.
       */
      no_dns?: {
        allow_names?: string[];
      } | null;
      /**
       * The vehicle sends nothing on this link.
       */
      no_mavlink?: {
        link: string;
      };
      /**
       * No emission above the threshold in these bands.
       */
      no_radio?: {
        /**
         * @minItems 1
         */
        bands: string[];
        threshold: Threshold;
        min_duration?: Duration;
      };
      /**
       * Only these transmitters (MAC addresses) are heard.
       */
      radio_only?: {
        /**
         * @minItems 1
         */
        transmitters: string[];
      };
      /**
       * No Remote ID broadcast.
       */
      no_remote_id?: {} | null;
      /**
       * No Wi-Fi probe requests.
       */
      no_probe_requests?: {} | null;
      /**
       * The channel's current stays below the limit.
       */
      current_below?: {
        channel: string;
        limit: Current;
      };
      /**
       * The channel's current stays above the limit.
       */
      current_above?: {
        channel: string;
        limit: Current;
      };
      /**
       * Traffic only to these device names, addresses or CIDRs.
       */
      traffic_only_to?: {
        /**
         * @minItems 1
         */
        hosts: string[];
      };
    }[];
    /**
     * Loosens the run-wide egress policy for this phase only, naming exactly what may leave: hosts (device names, "sinkhole", addresses or CIDRs) a packet may go to or come from, and DNS names (a name and everything below it) that may be looked up. Everything else is still a finding; reports show the allowance beside the verdict.
     */
    allow?: {
      hosts?: string[];
      names?: string[];
    };
  }[];
  /**
   * Assertions over the whole run.
   *
   * Items: One assertion: exactly one key.
   */
  assert?: {
    /**
     * No packet leaves the lab.
     */
    no_egress?: {
      allow_names?: string[];
      devices?: string[];
    } | null;
    /**
     * No DNS query for a name outside .local and the allowed names.
     */
    no_dns?: {
      allow_names?: string[];
    } | null;
    /**
     * The vehicle sends nothing on this link.
     */
    no_mavlink?: {
      link: string;
    };
    /**
     * No emission above the threshold in these bands.
     */
    no_radio?: {
      /**
       * @minItems 1
       */
      bands: string[];
      threshold: Threshold;
      min_duration?: Duration;
    };
    /**
     * Only these transmitters (MAC addresses) are heard.
     */
    radio_only?: {
      /**
       * @minItems 1
       */
      transmitters: string[];
    };
    /**
     * No Remote ID broadcast.
     */
    no_remote_id?: {} | null;
    /**
     * No Wi-Fi probe requests.
     */
    no_probe_requests?: {} | null;
    /**
     * The channel's current stays below the limit.
     */
    current_below?: {
      channel: string;
      limit: Current;
    };
    /**
     * The channel's current stays above the limit.
     */
    current_above?: {
      channel: string;
      limit: Current;
    };
    /**
     * Traffic only to these device names, addresses or CIDRs.
     */
    traffic_only_to?: {
      /**
       * @minItems 1
       */
      hosts: string[];
    };
  }[];
}
