// The bare namespace + overlay + exec floor that a RUN step cannot go below, done with
// util-linux: `unshare --mount --pid --fork --net --uts --ipc` + `mount -t overlay` + `chroot`
// + `/bin/true`. Needs root.

/** [file, args] of one floor run over rootfs, with scratch dirs { upper, work, mnt }. */
export function namespaceFloorCommand(rootfs, { upper, work, mnt }) {
  return [
    'unshare',
    ['--mount', '--pid', '--fork', '--net', '--uts', '--ipc', '/bin/sh', '-c',
      `mount -t overlay overlay -o lowerdir=${rootfs},upperdir=${upper},workdir=${work} ${mnt} && exec chroot ${mnt} /bin/true`],
  ];
}
