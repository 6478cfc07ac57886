/**
 * 802.1Q VLAN tags on a device's link, and a mirror that does not copy one VLAN (rig options
 * `devices.<d>.vlan` and `captures.network.<x>.fault: { mirror_drops_vlan: N }`, for tests on
 * the virtual rig; docs/technician/proof-of-sight.md).
 *
 * The device's link carries its traffic tagged, as a trunk port between a device and a switch
 * does: the device's eth0 tags every frame it sends and takes the tag off what it receives, and
 * the lab switch's port does the same the other way, so the bridge itself sees untagged frames.
 * The tags are put on and taken off by the kernel's own VLAN operations (bpf_skb_vlan_push and
 * bpf_skb_vlan_pop) from two tiny tc programs, assembled here with llvm-mc. A VLAN
 * sub-interface (`ip link add link eth0 type vlan`) or tc's vlan action would do the same, but
 * kernels built without CONFIG_VLAN_8021Q and CONFIG_NET_ACT_VLAN have neither, while tc's BPF
 * classifier is everywhere tc is.
 *
 * The mirror dropping a VLAN is the switch's SPAN session with a VLAN filter (Cisco's
 * `monitor session 1 filter vlan ...` excluding it): the frames are never copied to the mirror
 * port, so the capture host cannot see them whatever its own filter says. It is modelled where a
 * switch does it, in the copy: the mirror's tc classifier (a classic BPF program reading the
 * frame's VLAN tag) matches every frame except those of the VLAN, and only matched frames are
 * mirrored. A capture filter `not vlan N` would model a capture host that hides a VLAN instead,
 * which is `filter_hides`'s kind of fault, not a mirror's.
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from './exec.js';

/** tc programs for VLAN `vid`: section tc_push tags a frame, tc_pop untags one; both let the next filter run. */
export function vlanProgramSource(vid: number): string {
  // bpf_skb_vlan_push(skb, htons(ETH_P_8021Q), vid) is helper 18, bpf_skb_vlan_pop(skb) helper 19
  // (include/uapi/linux/bpf.h). r1 holds the skb on entry. htons(0x8100) on a little-endian host
  // is 0x0081 = 129. Returning -1 (TC_ACT_UNSPEC) lets the next filter of the hook run.
  return `\t.section\ttc_push,"ax",@progbits
\t.globl\tvlan_push
\t.type\tvlan_push,@function
vlan_push:
\tr2 = 129
\tr3 = ${vid}
\tcall 18
\tr0 = -1
\texit
\t.size\tvlan_push, .-vlan_push

\t.section\ttc_pop,"ax",@progbits
\t.globl\tvlan_pop
\t.type\tvlan_pop,@function
vlan_pop:
\tcall 19
\tr0 = -1
\texit
\t.size\tvlan_pop, .-vlan_pop

\t.section\tlicense,"aw",@progbits
\t.globl\t_license
_license:
\t.asciz\t"GPL"
`;
}

/** Assembles the tc programs for VLAN `vid` into `dir`; returns the object file. */
export async function buildVlanProgram(dir: string, vid: number): Promise<string> {
  const src = path.join(dir, `vlan-${vid}.s`);
  const obj = path.join(dir, `vlan-${vid}.o`);
  fs.writeFileSync(src, vlanProgramSource(vid));
  await run(['llvm-mc', '-triple=bpfel', '-filetype=obj', '-o', obj, src]);
  return obj;
}

// Classic BPF (linux/filter.h): ancillary loads of the frame's VLAN tag, however the driver holds it.
const SKF_AD_OFF = 0xfffff000;
const SKF_AD_VLAN_TAG = 44;
const SKF_AD_VLAN_TAG_PRESENT = 48;
const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const AND_K = 0x54;
const RET_K = 0x06;

/**
 * tc's `bytecode` for a classic BPF classifier matching every frame except those tagged with
 * VLAN `vid` (a match returns -1, the default class; no match returns 0).
 */
export function notVlanBytecode(vid: number): string {
  const ops: Array<[number, number, number, number]> = [
    [LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT],
    [JEQ_K, 3, 0, 0], // untagged: match
    [LD_W_ABS, 0, 0, SKF_AD_OFF + SKF_AD_VLAN_TAG],
    [AND_K, 0, 0, 0x0fff],
    [JEQ_K, 1, 0, vid], // this VLAN: no match
    [RET_K, 0, 0, 0xffffffff],
    [RET_K, 0, 0, 0],
  ];
  return `${ops.length},${ops.map((o) => o.join(' ')).join(',')}`;
}
