# Setup step cuda: on hosts with an NVIDIA GPU, a working driver, the NVIDIA Container Toolkit, the
# `nvidia` Docker runtime and the nvidia_uvm module. Hosts without one report "no GPU".
# Inputs (environment): SYSFS (default /sys, for tests); DAEMON_JSON_B64, DO_DRIVER, DO_TOOLKIT, DO_UVM for apply.

# Prints the PCI addresses of NVIDIA display/3D controllers (vendor 0x10de, class 0x03xxxx).
cuda_detect_gpus() {
  local root=${1:-${SYSFS:-/sys}} device vendor class
  # read, not cat: a machine has dozens of PCI devices, and this runs on every setup.
  for device in "$root"/bus/pci/devices/*; do
    [ -r "$device/vendor" ] || continue
    read -r vendor < "$device/vendor" || continue
    [ "$vendor" = 0x10de ] || continue
    class=""; read -r class < "$device/class" 2>/dev/null || true
    case "$class" in 0x03*) echo "${device##*/}" ;; esac
  done
}

cuda_inspect() {
  os_fact
  fact gpus "$(cuda_detect_gpus | tr '\n' ' ' | sed 's/ $//')"
  fact driver "$(have nvidia-smi && nvidia-smi -L >/dev/null 2>&1 && echo ok || echo missing)"
  fact toolkit "$(have nvidia-ctk && have nvidia-container-runtime && echo ok || echo missing)"
  fact uvm "$(grep -q '^nvidia_uvm ' /proc/modules 2>/dev/null && echo loaded || echo missing)"
  fact daemon_json "$(file_b64 /etc/docker/daemon.json)"
}

cuda_install_driver() {
  . /etc/os-release
  if [ "$ID" = ubuntu ]; then
    apt_install ubuntu-drivers-common
    # The full driver (not --gpgpu): it brings nvidia-smi along.
    ubuntu-drivers install || fail "ubuntu-drivers could not install an NVIDIA driver"
  else
    apt_install nvidia-driver firmware-misc-nonfree \
      || fail "no NVIDIA driver package: enable the non-free and non-free-firmware components in apt's sources"
  fi
  modprobe nvidia || fail "the NVIDIA driver was installed but its module does not load (a reboot may be needed)"
}

cuda_install_toolkit() {
  if ! apt_install nvidia-container-toolkit; then
    apt_install curl gnupg ca-certificates
    curl -fsSL https://nvidia.github.io/libnvidia-container/gpgkey \
      | gpg --dearmor --yes -o /usr/share/keyrings/nvidia-container-toolkit-keyring.gpg
    curl -fsSL https://nvidia.github.io/libnvidia-container/stable/deb/nvidia-container-toolkit.list \
      | sed 's#deb https://#deb [signed-by=/usr/share/keyrings/nvidia-container-toolkit-keyring.gpg] https://#' \
      | write_file /etc/apt/sources.list.d/nvidia-container-toolkit.list 644
    apt-get update -q >/dev/null
    apt_install nvidia-container-toolkit || fail "could not install nvidia-container-toolkit"
  fi
}

cuda_apply() {
  set -euo pipefail
  if [ "${DO_DRIVER:-}" = 1 ]; then cuda_install_driver; fi
  if [ "${DO_TOOLKIT:-}" = 1 ]; then cuda_install_toolkit; fi
  if [ -n "${DAEMON_JSON_B64:-}" ]; then
    echo "$DAEMON_JSON_B64" | base64 -d | write_file /etc/docker/daemon.json 644
    systemctl restart docker.service
  fi
  if [ "${DO_UVM:-}" = 1 ]; then modprobe nvidia-uvm || fail "modprobe nvidia-uvm failed"; fi
  cuda_verify
}

cuda_verify() {
  nvidia-smi -L >/dev/null 2>&1 || fail "nvidia-smi fails: $(nvidia-smi 2>&1 | head -1)"
  grep -q '^nvidia_uvm ' /proc/modules || fail "the nvidia_uvm module is not loaded"
  docker info --format '{{json .Runtimes}}' | grep -q '"nvidia"' || fail "Docker has no nvidia runtime"
}
