// The only bridge to dns-packet: an independent decoder/encoder for tests and diagnostics, never on the hot path.

import dnsPacket from 'dns-packet';

export type { Packet as DnsPacket, Answer as DnsPacketAnswer } from 'dns-packet';

/** Decode a message with dns-packet (an independent implementation, used to cross-check our codec). */
export function dnsPacketDecode(buf: Uint8Array): dnsPacket.Packet {
  return dnsPacket.decode(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength));
}

/** Encode a message with dns-packet. */
export function dnsPacketEncode(packet: dnsPacket.Packet): Uint8Array {
  return new Uint8Array(dnsPacket.encode(packet));
}
