import { connect, createServer, type Socket } from 'node:net';

/** A frame the server sent, as it crossed the relay. */
export interface RelayedFrame {
  /** 1 for the first connection through the relay, 2 for the next… */
  connection: number;
  frame: Record<string, unknown>;
}

/**
 * A TCP relay between a WebSocket client and the server that a test can cut, mute and read.
 * It forwards the server's bytes a whole WebSocket frame at a time, so it can record each
 * frame the client was sent and insert frames of its own between them.
 */
export interface SocketRelay {
  port: number;
  /** Connections accepted so far (dial attempts that reached the relay). */
  readonly connections: number;
  /** Frames sent by the server, in order. */
  readonly frames: readonly RelayedFrame[];
  /** Drops every open connection and refuses new ones until `restore()`. */
  cut(): void;
  restore(): void;
  /** Open connections stop passing the server's bytes on (the client hears nothing); new ones pass. */
  mute(): void;
  /** Sends a text frame to the client of every open connection, as if from the server. */
  inject(text: string): void;
  close(): Promise<void>;
}

interface Link {
  client: Socket;
  upstream: Socket;
  muted: boolean;
}

/** A server→client text frame (servers do not mask). */
function textFrame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  if (payload.length >= 65_536) throw new Error('inject frames under 64 KiB');
  const header =
    payload.length < 126
      ? Buffer.from([0x81, payload.length])
      : Buffer.from([0x81, 126, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([header, payload]);
}

/** The length of the complete frame at the start of `buffer`, or 0 when it is not all there. */
function frameLength(buffer: Buffer): number {
  if (buffer.length < 2) return 0;
  const short = (buffer[1] as number) & 0x7f;
  const masked = ((buffer[1] as number) & 0x80) !== 0;
  let offset = 2;
  let length = short;
  if (short === 126) {
    if (buffer.length < 4) return 0;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (short === 127) {
    if (buffer.length < 10) return 0;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  const total = offset + (masked ? 4 : 0) + length;
  return buffer.length >= total ? total : 0;
}

export async function startSocketRelay(target: {
  host: string;
  port: number;
}): Promise<SocketRelay> {
  const links = new Set<Link>();
  const frames: RelayedFrame[] = [];
  let connections = 0;
  let down = false;

  const server = createServer((client) => {
    if (down) {
      client.destroy();
      return;
    }
    const number = ++connections;
    const upstream = connect(target.port, target.host);
    const link: Link = { client, upstream, muted: false };
    links.add(link);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      links.delete(link);
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
    client.pipe(upstream);
    let pending = Buffer.alloc(0);
    let upgraded = false;
    upstream.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      if (!upgraded) {
        const end = pending.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = pending.subarray(0, end + 4);
        upgraded = head.toString('latin1').startsWith('HTTP/1.1 101');
        if (!link.muted) client.write(head);
        pending = pending.subarray(end + 4);
        if (!upgraded) {
          if (!link.muted) client.write(pending);
          pending = Buffer.alloc(0);
          return;
        }
      }
      for (let length = frameLength(pending); length > 0; length = frameLength(pending)) {
        const frame = pending.subarray(0, length);
        pending = pending.subarray(length);
        if (((frame[0] as number) & 0x0f) === 1) {
          // Server frames are not masked: the payload is the frame's tail.
          const text = frame.subarray(length - payloadLength(frame)).toString('utf8');
          frames.push({ connection: number, frame: JSON.parse(text) as Record<string, unknown> });
        }
        if (!link.muted) client.write(frame);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('relay did not bind');
  const dropAll = () => {
    for (const link of links) {
      link.client.destroy();
      link.upstream.destroy();
    }
    links.clear();
  };
  return {
    port: address.port,
    get connections() {
      return connections;
    },
    frames,
    cut() {
      down = true;
      dropAll();
    },
    restore() {
      down = false;
    },
    mute() {
      for (const link of links) link.muted = true;
    },
    inject(text) {
      for (const link of links) link.client.write(textFrame(text));
    },
    close() {
      down = true;
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function payloadLength(frame: Buffer): number {
  const short = (frame[1] as number) & 0x7f;
  if (short === 126) return frame.readUInt16BE(2);
  if (short === 127) return Number(frame.readBigUInt64BE(2));
  return short;
}
