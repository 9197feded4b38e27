/* An LD_PRELOAD shim for tests/unit/test_wipe.c: it wraps free() and, before the real
 * free runs, looks through the whole block (malloc_usable_size bytes) for the strings
 * the test asked it to watch, counting the blocks that still hold one. The test finds
 * the functions below with dlsym(); nothing links this library. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdatomic.h>
#include <string.h>

#define MAX_NEEDLES    4
#define MAX_NEEDLE_LEN 64

void authkit_test_watch_free(const char *needle);
void authkit_test_unwatch_free(void);
unsigned long authkit_test_freed_copies(void);

typedef void free_fn(void *);

static free_fn *real_free;
static char needles[MAX_NEEDLES][MAX_NEEDLE_LEN];
static size_t needle_lens[MAX_NEEDLES];
static atomic_int n_needles;
static atomic_ulong freed_copies;

/* Resolved once at load time: dlsym may itself allocate and free, so free() must not
 * call it. A block freed before that is leaked, not freed. */
__attribute__((constructor)) static void resolve(void) {
    real_free = (free_fn *)dlsym(RTLD_NEXT, "free");
}

/* Adds a string (up to 63 bytes) to look for; the counter starts again at 0. */
void authkit_test_watch_free(const char *needle) {
    int n = atomic_load(&n_needles);
    size_t len = strlen(needle);
    if (n >= MAX_NEEDLES || len == 0 || len >= MAX_NEEDLE_LEN)
        return;
    memcpy(needles[n], needle, len);
    needle_lens[n] = len;
    atomic_store(&freed_copies, 0);
    atomic_store(&n_needles, n + 1);
}

void authkit_test_unwatch_free(void) {
    atomic_store(&n_needles, 0);
}

/* Blocks freed since the last authkit_test_watch_free that held a watched string. */
unsigned long authkit_test_freed_copies(void) {
    return atomic_load(&freed_copies);
}

void free(void *p) {
    if (!p)
        return;
    int n = atomic_load(&n_needles);
    if (n > 0) {
        size_t size = malloc_usable_size(p);
        for (int i = 0; i < n; i++) {
            if (memmem(p, size, needles[i], needle_lens[i])) {
                atomic_fetch_add(&freed_copies, 1);
                break;
            }
        }
    }
    if (real_free)
        real_free(p);
}
