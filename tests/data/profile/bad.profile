profile demo {
  /etc/demo r,
  capability not_a_capability,
}
