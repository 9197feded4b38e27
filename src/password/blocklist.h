/* The list of common passwords that new passwords are checked against.
 *
 * The data is generated at build time (cmake/gen_blocklist.py) from zxcvbn's "passwords"
 * frequency list as Debian's python3-zxcvbn ships it (MIT licence): its entries,
 * lower-cased (ASCII), deduplicated and sorted by bytes. Read-only; safe from any thread. */
#ifndef AUTHKIT_PASSWORD_BLOCKLIST_H
#define AUTHKIT_PASSWORD_BLOCKLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The generated data: entry i is the authkit__blocklist_offsets[i + 1] -
 * authkit__blocklist_offsets[i] bytes of authkit__blocklist_words starting at offset i
 * (no separators, no NUL between entries). Entries are in strictly ascending byte order. */
extern const size_t authkit__blocklist_count;
extern const uint32_t authkit__blocklist_offsets[];
extern const char authkit__blocklist_words[];

/* Number of entries in the list. */
size_t authkit__blocklist_size(void);

/* true when the `len` bytes at `word` are exactly an entry. The caller lower-cases ASCII
 * letters first: entries are lower case. Binary search: about 15 comparisons. */
bool authkit__blocklist_contains(const char *word, size_t len);

#endif
