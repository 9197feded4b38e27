/* Password copies are wiped (checklist item 11). Each password path runs with a canary
 * password on a thread whose stack is a fresh mapping; afterwards no copy of the canary
 * (nor of the bcrypt hash computed from a wrong password) may be left on that stack, nor,
 * with tests/support/watch_free.c preloaded into a child copy of this program, in any
 * block handed to free(). Each scan has a positive control: a copy left on purpose is
 * found. */
#include <dlfcn.h>
#include <pthread.h>
#include <sys/mman.h>

#include "check.h"
#include "fixture.h"
#include "password/bcrypt.h"
#include "rerun.h"

/* Lower case, so that the policy's lower-cased copy is the same string. */
#define CANARY     "wipe-canary-q7zxk3v9pl"
#define WRONG      "wipe-canary-q7zxk3v9pm"
#define STACK_SIZE (1024 * 1024)

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* The shim's functions, when it is loaded. */
static void (*watch_free)(const char *);
static void (*unwatch_free)(void);
static unsigned long (*freed_copies)(void);

/* The passwords, each alone in 64 bytes of its own behind a guard, and never a string
 * literal. String functions load 32 bytes at a time into vector registers, which the
 * dynamic linker saves on the stack when it binds a function lazily: a password stored
 * next to another string (a login name, say) would be loaded with it and could turn up
 * there although no code read the password. */
static struct {
    _Alignas(64) char guard[64];
    char canary[64];
    char wrong[64];
} pw = {.canary = CANARY, .wrong = WRONG};

static char canary_hash[AUTHKIT_HASH_SIZE]; /* CANARY at cost 4 */
static char wrong_hash[AUTHKIT_HASH_SIZE];  /* WRONG with canary_hash's salt */

struct job {
    void (*fn)(void *);
    void *arg;
};

/* The job runs 64 KiB below the top of the stack: what the thread's exit runs later
 * stays above it and cannot overwrite what the job left. */
static void *run_job(void *p) {
    volatile char above[64 * 1024];
    above[0] = 0;
    struct job *j = p;
    j->fn(j->arg);
    (void)above[0]; /* keeps the array, and so the call below it, in this frame */
    return NULL;
}

/* Runs fn(arg) on a new thread whose stack is a fresh zeroed mapping, with the watched
 * strings also watched in freed blocks when the shim is loaded. Returns the index of a
 * string left anywhere on that stack, or -1; `*freed` gets the freed blocks that held
 * one. */
static int run_watched(void (*fn)(void *), void *arg, const char *const *strings, size_t n,
                       unsigned long *freed) {
    *freed = 0;
    char *stack = mmap(NULL, STACK_SIZE, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    CHECK(stack != MAP_FAILED);
    if (stack == MAP_FAILED)
        return -1;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstack(&attr, stack, STACK_SIZE);
    if (watch_free)
        for (size_t i = 0; i < n; i++)
            watch_free(strings[i]);
    struct job job = {fn, arg};
    pthread_t t;
    int rc = pthread_create(&t, &attr, run_job, &job);
    CHECK_INT(rc, 0);
    if (rc == 0)
        pthread_join(t, NULL);
    if (watch_free) {
        *freed = freed_copies();
        unwatch_free();
    }
    pthread_attr_destroy(&attr);
    int left = -1;
    for (size_t i = 0; i < n && left < 0; i++)
        if (memmem(stack, STACK_SIZE, strings[i], strlen(strings[i])))
            left = (int)i;
    munmap(stack, STACK_SIZE);
    return left;
}

/* ---- the positive controls: what the scans must find ---- */

__attribute__((noinline)) static void leave_on_stack(void *arg) {
    volatile char copy[64];
    const char *s = arg;
    for (size_t i = 0; i < sizeof copy && s[i]; i++)
        copy[i] = s[i];
}

__attribute__((noinline)) static void leave_in_freed_block(void *arg) {
    /* Through volatile pointers, so that the compiler cannot drop the pair. */
    void *(*volatile alloc)(size_t) = malloc;
    void (*volatile release)(void *) = free;
    char *copy = alloc(64);
    if (copy) {
        memcpy(copy, arg, strlen(arg) + 1);
        release(copy);
    }
}

/* ---- the password paths ---- */

/* What a path returned, checked after the scan: a failed check prints, and what stdio
 * leaves on the stack being scanned must not pass for a copy. */
struct outcome {
    authkit_status got[4];
};

static void do_crypt(void *arg) {
    struct outcome *o = arg;
    char out[AUTHKIT_HASH_SIZE];
    o->got[0] = authkit__bcrypt_crypt(pw.canary, strlen(pw.canary), canary_hash, out);
}

static void do_hash(void *arg) {
    struct outcome *o = arg;
    char out[AUTHKIT_HASH_SIZE];
    o->got[0] = authkit_password_hash(pw.canary, strlen(pw.canary), 4, out);
}

static void do_verify_right(void *arg) {
    struct outcome *o = arg;
    o->got[0] = authkit_password_verify(pw.canary, strlen(pw.canary), canary_hash);
}

static void do_verify_wrong(void *arg) {
    struct outcome *o = arg;
    o->got[0] = authkit_password_verify(pw.wrong, strlen(pw.wrong), canary_hash);
}

/* Through a context: the policy check of a new password, a login with it, a failed
 * login, and closing (which frees whatever the context kept). */
static struct fixture fx;

static void do_context(void *arg) {
    struct outcome *o = arg;
    o->got[0] = authkit_open(&fx.opts, &fx.ctx, NULL);
    if (o->got[0] != AUTHKIT_OK)
        return;
    authkit_user_new in = {.email = "tester@example.com",
                           .username = "tester",
                           .password = pw.canary,
                           .password_len = strlen(pw.canary)};
    o->got[1] = authkit_user_create(fx.ctx, &in, NULL, NULL);
    authkit_session_opts so = {.ip = "192.0.2.1"};
    authkit_login_result r;
    o->got[2] = authkit_authenticate(fx.ctx, "tester", pw.canary, strlen(pw.canary), &so, &r, NULL);
    o->got[3] = authkit_authenticate(fx.ctx, "tester", pw.wrong, strlen(pw.wrong), &so, &r, NULL);
    authkit_close(fx.ctx);
    fx.ctx = NULL;
}

/* The policy check alone, on a context opened outside the watch: a later step of
 * do_context could overwrite what it leaves on the stack. */
static void do_policy(void *arg) {
    struct outcome *o = arg;
    o->got[0] = authkit_password_policy_check(fx.ctx, pw.canary, strlen(pw.canary), "tester",
                                              "tester@example.com", NULL);
}

/* Runs `fn`, checks that no copy is left, then that it returned `want` (n statuses). */
static void check_wiped(const char *name, void (*fn)(void *), const authkit_status *want,
                        size_t n) {
    const char *strings[] = {pw.canary, pw.wrong, wrong_hash};
    struct outcome o;
    memset(&o, 0, sizeof o);
    unsigned long freed;
    static const char *const what[] = {"the password", "the wrong password",
                                       "the hash of the wrong password"};
    int left = run_watched(fn, &o, strings, 3, &freed);
    CHECK_MSG(left < 0, "%s: a copy of %s is left on the stack", name, left < 0 ? "" : what[left]);
    CHECK_MSG(freed == 0, "%s: %lu freed blocks hold a copy of the password or its hash", name,
              freed);
    for (size_t i = 0; i < n; i++)
        CHECK_MSG(o.got[i] == want[i], "%s: step %zu returned %s, expected %s", name, i,
                  authkit_status_name(o.got[i]), authkit_status_name(want[i]));
}

static void run_checks(void) {
    /* Made outside the watch: the hash of the canary, and the one a wrong verification
     * computes (the wrong password with the same salt), as secret as that password. */
    CHECK_OK(authkit_password_hash(pw.canary, strlen(pw.canary), 4, canary_hash));
    CHECK_OK(authkit__bcrypt_crypt(pw.wrong, strlen(pw.wrong), canary_hash, wrong_hash));

    const char *canary[] = {pw.canary};
    unsigned long freed;
    CHECK_MSG(run_watched(leave_on_stack, pw.canary, canary, 1, &freed) == 0,
              "control: a copy left on the stack is not found");
    if (watch_free) {
        run_watched(leave_in_freed_block, pw.canary, canary, 1, &freed);
        CHECK_MSG(freed == 1, "control: %lu freed blocks found, expected 1", freed);
    }

    const authkit_status ok[] = {AUTHKIT_OK};
    const authkit_status mismatch[] = {AUTHKIT_MISMATCH};
    check_wiped("authkit__bcrypt_crypt", do_crypt, ok, 1);
    check_wiped("authkit_password_hash", do_hash, ok, 1);
    check_wiped("authkit_password_verify, right password", do_verify_right, ok, 1);
    check_wiped("authkit_password_verify, wrong password", do_verify_wrong, mismatch, 1);
    const authkit_status context[] = {AUTHKIT_OK, AUTHKIT_OK, AUTHKIT_OK, AUTHKIT_AUTHENTICATION};
    fixture_options(&fx);
    check_wiped("open, user_create, authenticate, close", do_context, context, 4);
    fixture_open(&fx);
    check_wiped("authkit_password_policy_check", do_policy, ok, 1);
    fixture_teardown(&fx);
}

/* In the child, with the shim preloaded. */
static void run_with_shim(void) {
    watch_free = (void (*)(const char *))dlsym(RTLD_DEFAULT, "authkit_test_watch_free");
    unwatch_free = (void (*)(void))dlsym(RTLD_DEFAULT, "authkit_test_unwatch_free");
    freed_copies = (unsigned long (*)(void))dlsym(RTLD_DEFAULT, "authkit_test_freed_copies");
    CHECK_MSG(watch_free && unwatch_free && freed_copies, "the free() shim is not loaded");
    if (!watch_free || !unwatch_free || !freed_copies)
        return;
    run_checks();
}

int main(int argc, char **argv) {
    rerun_init(argv);
    if (argc > 1 && strcmp(argv[1], "watched") == 0) {
        run_with_shim();
        return check_done("test_wipe (free watched)");
    }
#ifdef UNDER_ASAN
    /* AddressSanitizer owns free() (and must come first in LD_PRELOAD): a second
     * wrapper cannot run beside it. The stack scans still run. */
    printf("test_wipe: freed-block checks skipped under AddressSanitizer, which owns free()\n");
    run_checks();
    return check_done("test_wipe (stacks only)");
#else
    rerun_with_shim(AUTHKIT_WATCH_FREE, "watched");
    return check_done("test_wipe");
#endif
}
