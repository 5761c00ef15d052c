# A small valid profile for CLI tests.
abi <abi/4.0>,
include if exists <tunables/global>

@{APP} = /usr/bin/demo

profile demo @{APP} flags=(complain) {
  #include if exists <abstractions/base>
  capability chown,
  network inet stream,
  owner @{APP} r,
  /etc/demo/{a,b}.conf r,

  ^hat {
    /tmp/x rw,
  }
}
