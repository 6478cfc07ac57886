/**
 * The rig file as written, generated from schema/rig.schema.json by json-schema-to-typescript
 * (test/config/schema-types.ts). Do not edit: change the schema and run `npm run docs`.
 * src/config/types.ts derives the loaded, unit-converted config from these types.
 */

/**
 * A frequency with its unit: 10Hz, 100kHz, 433MHz, 2.4GHz.
 */
export type Frequency = string;

/**
 * Which devices are on this bench and how to reach them. Units are always written: 30s, 3A, 12V, 2.4GHz, 32MiB.
 */
export interface AirlockRigFile {
  /**
   * Name of the rig.
   */
  rig: string;
  /**
   * True for the virtual rig: Airlock builds the lab and the simulators itself. Default false.
   */
  virtual?: boolean;
  /**
   * The lab network: everything outside these subnets is outside the lab.
   */
  lab: {
    /**
     * CIDRs inside the lab (IPv4 and IPv6).
     *
     * @minItems 1
     */
    subnets: string[];
    /**
     * IPv4 address of the sinkhole (the lab's gateway).
     */
    sinkhole?: string;
    /**
     * IPv6 address of the sinkhole.
     */
    sinkhole6?: string;
    /**
     * Host names that resolve inside the lab (allowed for DNS besides .local).
     */
    names?: string[];
    /**
     * Where `run` reads the log of `airlock sinkhole` on the lab gateway after the run: the records of the run's time span are copied into the run directory (sinkhole.jsonl) and checked against the captures; a log that cannot be read, or that shows the sinkhole was not running, makes the windows it misses INCONCLUSIVE. On the virtual rig, the virtual sinkhole writes to path.
     */
    sinkhole_log?: {
      /**
       * Absolute path of the log file: on this host (a directory shared with the gateway), or on the gateway when ssh is given.
       */
      path: string;
      /**
       * user@host of the gateway: the log is read with ssh -T -o BatchMode=yes (key-based login; no password prompt can be answered).
       */
      ssh?: string;
    };
  };
  /**
   * The devices under test (any names).
   */
  devices: {
    [k: string]: {
      /**
       * Lab IPv4 address.
       */
      address?: string;
      /**
       * Lab IPv6 address.
       */
      address6?: string;
      /**
       * For tests; virtual rig only (refused on a real rig): the device's link carries its traffic tagged with this 802.1Q VLAN id, as a trunk port does (the lab switch's port takes the tag off), so a capture of that port sees tagged frames, canaries included.
       */
      vlan?: number;
      /**
       * Power channel (a key of power) feeding the device.
       */
      power?: string;
      /**
       * Button (a key of buttons) wired across the device's power button.
       */
      button?: string;
      /**
       * MAVLink link (a key of links) the device speaks on.
       */
      link?: string;
      /**
       * Virtual rig: a firmware profile or a command. Real rig: the firmware image file (hashed, never run).
       */
      firmware?: string;
      /**
       * Firmware profile parameters (e.g. delay: 20s).
       */
      firmware_params?: {
        [k: string]: string | number | boolean;
      };
      /**
       * Named actions for device steps: a shell command each.
       */
      actions?: {
        [k: string]: string;
      };
    };
  };
  /**
   * Power channels, in safing order (switched off first to last).
   */
  power?: {
    [k: string]: {
      /**
       * Power supply or relay model.
       */
      driver: "scpi" | "korad" | "lcus" | "netswitch" | "manual";
      /**
       * Serial device, sim:NAME on the virtual rig, or a URL for netswitch. Required except for manual.
       */
      port?: string;
      /**
       * Output or relay channel (1-based). Default 1.
       */
      channel?: number;
      /**
       * Programmed output voltage, e.g. 12V.
       */
      volts?: string;
      /**
       * Programmed current limit, e.g. 3A.
       */
      current_limit?: string;
      /**
       * Serial baud rate.
       */
      baud?: number;
      /**
       * Per-command reply timeout. Default 1s.
       */
      timeout?: string;
    };
  };
  /**
   * Relays wired across power buttons.
   */
  buttons?: {
    [k: string]: {
      driver: "lcus" | "manual";
      /**
       * Required except for manual.
       */
      port?: string;
      /**
       * Relay channel (1-based). Default 1.
       */
      channel?: number;
      baud?: number;
      /**
       * Default 1s.
       */
      timeout?: string;
    };
  };
  /**
   * MAVLink links.
   */
  links?: {
    [k: string]: {
      /**
       * serial:PATH:BAUD, udp:HOST:PORT, udpout:HOST:PORT or tcp:HOST:PORT.
       */
      endpoint: string;
      /**
       * The vehicle's system id. Default 1.
       */
      system_id?: number;
      /**
       * Airlock's own system id. Default 255.
       */
      gcs_system_id?: number;
      /**
       * Default 3s.
       */
      heartbeat_timeout?: string;
      /**
       * Default ardupilot.
       */
      autopilot?: "ardupilot" | "px4";
    };
  };
  captures?: {
    /**
     * Network captures roll over into numbered parts (net-drone.pcap, net-drone.1.pcap, net-drone.2.pcap ...) once a part reaches this size or has run this long, between two packets (none is lost at the boundary). Every part is in the manifest and judged, live and after the run. Absent: one file per capture.
     */
    rotate?: {
      /**
       * Largest part (e.g. 100MB); a part never holds less than one packet.
       */
      size?: string;
      /**
       * Longest part in time (e.g. 1h).
       */
      duration?: string;
    };
    network?: {
      [k: string]: {
        /**
         * Interface; on the virtual rig a lab host name (drone, controller, phone, sinkhole).
         */
        interface: string;
        /**
         * BPF capture filter; virtual rig only (refused on a real rig: a filter hides traffic no canary can vouch for).
         */
        filter?: string;
        /**
         * libpcap buffer. Default 32MiB.
         */
        buffer_size?: string;
        /**
         * Default 65535.
         */
        snaplen?: number;
        /**
         * For tests; virtual rig only (refused on a real rig). Makes this capture blind on purpose, the way a real bench goes blind, so a test can check the run says INCONCLUSIVE naming why: wrong_interface (the capture listens on a quiet interface that carries nothing), interface_down (the capture's own mirror port goes down once the capture has started), filter_hides (a BPF capture filter hides one protocol: tcp, udp, icmp, dns or ip6), mirror_drops_vlan (the capture listens on a mirror of the port that does not copy frames of this 802.1Q VLAN).
         */
        fault?:
          | ("wrong_interface" | "interface_down")
          | {
              /**
               * The protocol the capture filter hides.
               */
              filter_hides: "tcp" | "udp" | "icmp" | "dns" | "ip6";
            }
          | {
              /**
               * The VLAN id whose frames the mirror does not copy.
               */
              mirror_drops_vlan: number;
            };
      };
    };
    sdr?: {
      [k: string]: {
        driver: "hackrf_sweep" | "rtl_power" | "virtual";
        /**
         * @minItems 1
         */
        bands: {
          /**
           * Band name used by no_radio assertions, e.g. 2.4GHz.
           */
          name: string;
          low: Frequency;
          high: Frequency;
        }[];
        bin_width: Frequency;
        args?: string[];
        /**
         * Tool binary override.
         */
        command?: string;
      };
    };
    wifi?: {
      [k: string]: {
        /**
         * Monitor-mode interface, or virtual.
         */
        interface: string;
        channel?: number;
      };
    };
    ble?: {
      /**
       * Either command (a sniffer bridge) or driver: virtual, not both.
       */
      [k: string]: {
        /**
         * A command that writes a BLE capture (pcap, link type 251, 256 or 272) to stdout, e.g. an nRF Sniffer bridge.
         */
        command?: string;
        /**
         * virtual: the virtual rig's BLE sniffer (Remote ID the firmware sends over BLE 5 long range, written as the nRF Sniffer writes it).
         */
        driver?: "virtual";
      };
    };
  };
  /**
   * A frequency with its unit: 10Hz, 100kHz, 433MHz, 2.4GHz.
   */
  power_sample_rate?: string;
  /**
   * Canary interval on the virtual rig; 0s disables. Default 2s.
   */
  canary_interval?: string;
  /**
   * Largest TCP capture loss (acknowledged data a capture never saw, per capture and phase) that still proves sight; above it the phase is INCONCLUSIVE. From 0% to 100% (validate refuses more: it would turn the check off). Default 0.1%.
   */
  capture_loss_max?: string;
  /**
   * Where Airlock injects canaries (its own HMAC-marked packets) and which captures each must cross. Every network capture must be crossed by at least one injection point. The virtual rig injects from every device namespace unless this says otherwise.
   */
  canaries?: {
    /**
     * Time between rounds (besides the rounds at the start and end of every phase). Default: canary_interval, else 2s.
     */
    interval?: string;
    /**
     * Protocols of each round, in any order: it must hold all four (validate refuses a subset, naming what is missing), so a capture filter or mirror that hides one protocol shows. Default all four.
     *
     * @minItems 1
     */
    protocols?: ("udp" | "tcp" | "icmp" | "dns")[];
    /**
     * Lab address canaries go to. Default lab.sinkhole.
     */
    lab_target?: string;
    /**
     * Outside address canaries go to (a documentation address the lab gateway receives and never forwards). Default 203.0.113.99.
     */
    outside_target?: string;
    /**
     * Lab IPv6 address canaries go to over IPv6. Default lab.sinkhole6. Canaries go over IPv6 too from every injection point with an IPv6 source (source6; on the virtual rig, every device with an address6) when this or lab.sinkhole6 is set.
     */
    lab_target6?: string;
    /**
     * Outside IPv6 address canaries go to (a documentation address, 2001:db8::/32, the lab gateway receives and never forwards). Default 2001:db8::99.
     */
    outside_target6?: string;
    /**
     * Injection points by name.
     */
    inject?: {
      [k: string]: {
        /**
         * Virtual rig: the lab host (namespace) that sends.
         */
        host?: string;
        /**
         * Network interface on the lab network the raw canaries leave by (on this host, or on the ssh host).
         */
        interface?: string;
        /**
         * IPv4 address to send from (an address of that host on the lab network).
         */
        source?: string;
        /**
         * IPv6 address to send from, where the lab network carries IPv6: every round goes over IPv6 too (UDP, TCP SYN, ICMPv6 echo, DNS).
         */
        source6?: string;
        /**
         * user@host of a lab-side Linux host running `airlock canary-helper` (reached with ssh -T, keys only).
         */
        ssh?: string;
        /**
         * Command that starts the helper on the ssh host. Default: airlock canary-helper.
         */
        helper?: string;
        /**
         * Names of the network captures these canaries must appear in.
         *
         * @minItems 1
         */
        crosses: string[];
      };
    };
  };
}
