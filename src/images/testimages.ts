/** The offline test images by name: busybox, nginx and the pause/sandbox image. */
import { buildImage, type BuiltImage } from './oci.js';
import { busyboxRootfs, nginxRootfs, pauseRootfs } from './rootfs.js';

export const PAUSE_IMAGE = 'skiff.local/pause:3.9';

export function busyboxImage(name = 'skiff.local/busybox:1.35'): BuiltImage {
  return buildImage(name, busyboxRootfs(), { cmd: ['sh'] });
}

export function nginxImage(name = 'docker.io/library/nginx:latest'): BuiltImage {
  return buildImage(name, nginxRootfs(), { cmd: ['nginx', '-g', 'daemon off;'], exposedPorts: ['80/tcp'], stopSignal: 'SIGQUIT' });
}

export function pauseImage(cacheDir: string, name = PAUSE_IMAGE): BuiltImage {
  return buildImage(name, pauseRootfs(cacheDir), { entrypoint: ['/pause'] });
}
