# median(a, who): the median of a[who, 1..n[who]], for the bench scripts
# that key their runs by contender (bench/run-boot, run-io, run-hostroot
# take it with `awk "$(cat bench/median.awk)"' ...'`).
function median(a, who,   i, j, k, x, v) {
    k = n[who]; for (i = 1; i <= k; i++) v[i] = a[who, i]
    for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
    return k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
}
