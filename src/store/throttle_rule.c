#include "store/throttle_rule.h"

#include <string.h>

/* base << n, capped at max, without overflowing. */
static authkit_time delay_after(const struct authkit__throttle_rule *rule, int64_t n) {
    authkit_time d = rule->base;
    for (int64_t i = 0; i < n && d < rule->max; i++)
        d *= 2;
    return d < rule->max ? d : rule->max;
}

bool authkit__throttle_admit(const struct authkit__throttle_rule *rule,
                             struct authkit__throttle_row *row, authkit_time now) {
    if (row->blocked_until > now)
        return false;
    if (row->updated_at && now - row->updated_at >= rule->forget)
        row->attempts = 0;
    row->attempts++;
    row->updated_at = now;
    authkit_time delay = 0;
    if (rule->limit > 0 && row->attempts >= rule->limit)
        delay = rule->max;
    else if (row->attempts > rule->free)
        delay = delay_after(rule, row->attempts - rule->free - 1);
    row->blocked_until = delay ? now + delay : 0;
    return true;
}

void authkit__throttle_succeeded(const struct authkit__throttle_rule *rule,
                                 struct authkit__throttle_row *row) {
    if (rule->reset_on_success) {
        memset(row, 0, sizeof *row);
        return;
    }
    if (row->attempts > 0)
        row->attempts--;
    if (row->attempts <= rule->free)
        row->blocked_until = 0;
}
