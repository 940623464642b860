#!/bin/sh
# nested-timeout: 240
# A Linux guest finds its real-time clock (x86_64: the CMOS RTC, PNP0B00
# in the DSDT, driver rtc_cmos; aarch64: the PL031, driver rtc-pl031) and
# reads the host's time from it: rtc0's seconds since the epoch lie
# between the host's clock before and after the run.
. "$(dirname "$0")/lib.sh"
need_linux
linux_initrd 'if [ -e /sys/class/rtc/rtc0 ]; then
    echo "rtc-name=$(cat /sys/class/rtc/rtc0/name)"
    echo "rtc-epoch=$(cat /sys/class/rtc/rtc0/since_epoch)"
else
    echo "rtc-name=none"
fi
dmesg | grep -i rtc
vmm-exit 0'
before=$(date +%s)
VMM_TIMEOUT=200 vmm_linux
after=$(date +%s)
expect_status 0
expect_stdout_has "init: up"
name=$(sed -n 's/^rtc-name=//p' "$T/stdout" | tr -d '\r')
epoch=$(sed -n 's/^rtc-epoch=//p' "$T/stdout" | tr -d '\r')
case "$ARCH:$name" in
    x86_64:rtc_cmos*|aarch64:*pl031*) ;;
    *) fail "rtc0 is '$name', not the $ARCH machine's RTC" ;;
esac
[ -n "$epoch" ] && [ "$epoch" -ge $((before - 2)) ] && [ "$epoch" -le $((after + 2)) ] ||
    fail "rtc0 reads $epoch s, the host's clock was $before-$after s"
