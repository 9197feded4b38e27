#include "password/blocklist.h"

#include <string.h>

size_t authkit__blocklist_size(void) {
    return authkit__blocklist_count;
}

/* Byte order, a shorter word before its own extensions: the order the generator sorts. */
static int compare_entry(size_t i, const char *word, size_t len) {
    const char *entry = authkit__blocklist_words + authkit__blocklist_offsets[i];
    size_t n = authkit__blocklist_offsets[i + 1] - authkit__blocklist_offsets[i];
    int c = memcmp(entry, word, n < len ? n : len);
    if (c != 0)
        return c;
    return n < len ? -1 : n > len ? 1 : 0;
}

bool authkit__blocklist_contains(const char *word, size_t len) {
    if (!word || len == 0)
        return false;
    size_t lo = 0, hi = authkit__blocklist_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = compare_entry(mid, word, len);
        if (c == 0)
            return true;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}
