/**
 * The remotecommand protocol (exec and attach over SPDY) as both ends name it: the kubelet serves it
 * to kubectl (kubelet/remotecommand-spdy.ts), the containerd runtime speaks it to CRI's streaming
 * server (runtime/containerd/exec.ts). No imports: either end loads it without the other.
 */
export const STREAM_PROTOCOL_V4 = 'v4.channel.k8s.io';

/** The streams of a session: exactly those asked for, or the server waits for the missing ones. */
export interface RemoteCommandOptions {
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  tty: boolean;
}
