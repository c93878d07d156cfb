/**
 * Docker's default seccomp profile, as data: the same decisions as moby's
 * profiles/seccomp/default.json (seccomp v0.2.3, Docker 29), written in our
 * own form. The compiler that turns it into BPF is seccomp.ts.
 *
 * Semantics, as runc and libseccomp give them to a Docker container:
 * - a syscall no rule allows fails with EPERM (defaultErrnoRet 1);
 * - one whose number is above the highest number any applicable rule names
 *   (per ABI) fails with ENOSYS instead (runc's stub), so that a libc probing
 *   a syscall newer than the profile falls back as on an old kernel;
 * - a rule with `cap` applies only to a container holding that capability
 *   (Docker looks at the bounding set; ours are all the same set), one with
 *   `unlessCap` only to a container without it, one with `hosts` only on those
 *   machines (Docker's "arches", which name the host: on x86-64 a rule then
 *   covers its i386 and x32 ABIs too, as libseccomp adds it to every ABI of
 *   the filter where the name exists);
 * - `when` lists alternatives on the arguments, any one of which allows the
 *   call (Docker writes one rule per alternative); 64-bit comparisons on the
 *   64-bit ABIs, the low 32 bits on i386 and x32, as libseccomp compares.
 * `minKernel` rules (ptrace and process_vm_* from 4.8) hold on every kernel
 * we support (5.10 and later), so they are plain rules here.
 */

export type HostArch = 'x64' | 'arm64';

export interface ArgTest {
  arg: number;
  op: 'eq' | 'lt' | 'gt' | 'masked-eq';
  value: bigint;
  /** masked-eq: (arg & mask) == value */
  mask?: bigint;
}

export interface ProfileRule {
  names: string[];
  /** allow, or fail with this errno */
  action: 'allow' | number;
  when?: ArgTest[];
  cap?: string;
  unlessCap?: string;
  hosts?: HostArch[];
}

const words = (s: string) => s.trim().split(/\s+/);
const ENOSYS = 38;
/** CLONE_NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET: clone may create none of them without CAP_SYS_ADMIN. */
const CLONE_NAMESPACES = 0x7e020000n;
const AF_ALG = 38n;
const AF_VSOCK = 40n;

/** Everything a container may call whatever its capabilities. */
const ALWAYS = words(`
  accept accept4 access adjtimex alarm
  bind brk
  cachestat capget capset chdir chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres
  clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep clock_nanosleep_time64 close
  close_range connect copy_file_range creat
  dup dup2 dup3
  epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old
  eventfd eventfd2 execve execveat exit exit_group
  faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2
  fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr fsetxattr
  fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex futex_requeue futex_time64
  futex_wait futex_waitv futex_wake futimesat
  get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32
  getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid getpriority
  getrandom getresgid getresgid32 getresuid getresuid32 getrlimit getrusage getsid getsockname getsockopt
  gettid gettimeofday getuid getuid32 getxattr getxattrat
  inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel io_destroy io_getevents
  io_pgetevents io_pgetevents_time64 io_setup io_submit ioctl ioprio_get ioprio_set ipc
  kill
  landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32 lgetxattr link linkat
  listen listmount listxattr listxattrat llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64
  madvise map_shadow_stack membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock
  mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive
  mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl msgget msgrcv
  msgsnd msync munlock munlockall munmap
  name_to_handle_at nanosleep newfstatat _newselect
  open openat openat2
  pause pidfd_open pidfd_send_signal pipe pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64
  prctl pread64 preadv preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev
  pwritev2
  read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages
  removexattr removexattrat rename renameat renameat2 restart_syscall riscv_hwprobe rmdir rseq
  rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend rt_sigtimedwait
  rt_sigtimedwait_time64 rt_tgsigqueueinfo
  sched_get_priority_max sched_get_priority_min sched_getaffinity sched_getattr sched_getparam
  sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity sched_setattr
  sched_setparam sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop
  semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto set_robust_list set_thread_area
  set_tid_address setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer
  setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 setreuid setreuid32
  setrlimit setsid setsockopt setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget shutdown
  sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice stat stat64 statfs
  statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo
  tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64 timer_settime
  timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64 timerfd_settime timerfd_settime64 times
  tkill truncate truncate64
  ugetrlimit umask uname unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes
  vfork vmsplice
  wait4 waitid waitpid write writev
  process_vm_readv process_vm_writev ptrace
`);

export const DEFAULT_PROFILE: readonly ProfileRule[] = [
  { names: ALWAYS, action: 'allow' },
  // Every address family but AF_ALG (its crypto sockets reach kernel code containers seldom need) and AF_VSOCK
  // (the host's and other VMs' endpoints). socketcall, i386's multiplexer, stays allowed: BPF cannot read its
  // arguments, and Docker let it be (blocking it broke too many i386 programs).
  {
    names: ['socket'], action: 'allow',
    when: [{ arg: 0, op: 'lt', value: AF_ALG }, { arg: 0, op: 'eq', value: AF_ALG + 1n }, { arg: 0, op: 'gt', value: AF_VSOCK }],
  },
  // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and the query: not ADDR_NO_RANDOMIZE (no ASLR) nor
  // READ_IMPLIES_EXEC and the old ABIs' quirks.
  { names: ['personality'], action: 'allow', when: [0x0n, 0x8n, 0x20000n, 0x20008n, 0xffffffffn].map((value) => ({ arg: 0, op: 'eq' as const, value })) },
  { names: words('arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls'), action: 'allow', hosts: ['arm64'] },
  { names: ['arch_prctl', 'modify_ldt'], action: 'allow', hosts: ['x64'] },
  { names: ['open_by_handle_at'], action: 'allow', cap: 'DAC_READ_SEARCH' },
  {
    names: words(`bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie lsm_get_self_attr lsm_list_modules
      lsm_set_self_attr mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname
      setns syslog umount umount2 unshare`),
    action: 'allow', cap: 'SYS_ADMIN',
  },
  // Without CAP_SYS_ADMIN, clone may not create namespaces; clone3 passes its flags in memory BPF cannot read,
  // so it fails with ENOSYS and libc falls back to clone, whose flags can be checked.
  { names: ['clone'], action: 'allow', unlessCap: 'SYS_ADMIN', when: [{ arg: 0, op: 'masked-eq', mask: CLONE_NAMESPACES, value: 0n }] },
  { names: ['clone3'], action: ENOSYS, unlessCap: 'SYS_ADMIN' },
  { names: ['reboot'], action: 'allow', cap: 'SYS_BOOT' },
  { names: ['chroot'], action: 'allow', cap: 'SYS_CHROOT' },
  { names: ['delete_module', 'init_module', 'finit_module'], action: 'allow', cap: 'SYS_MODULE' },
  { names: ['acct'], action: 'allow', cap: 'SYS_PACCT' },
  { names: words('kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace'), action: 'allow', cap: 'SYS_PTRACE' },
  { names: ['iopl', 'ioperm'], action: 'allow', cap: 'SYS_RAWIO' },
  { names: words('settimeofday stime clock_settime clock_settime64'), action: 'allow', cap: 'SYS_TIME' },
  { names: ['vhangup'], action: 'allow', cap: 'SYS_TTY_CONFIG' },
  { names: words('get_mempolicy mbind set_mempolicy set_mempolicy_home_node'), action: 'allow', cap: 'SYS_NICE' },
  { names: ['syslog'], action: 'allow', cap: 'SYSLOG' },
  { names: ['bpf'], action: 'allow', cap: 'BPF' },
  { names: ['perf_event_open'], action: 'allow', cap: 'PERFMON' },
];
