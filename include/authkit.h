/* libauthkit: users, bcrypt passwords, sessions and events for C services. */
#ifndef AUTHKIT_H
#define AUTHKIT_H

#include "authkit/common.h"
#include "authkit/status.h"
#include "authkit/context.h"
#include "authkit/password.h"
#include "authkit/user.h"
#include "authkit/session.h"
#include "authkit/csrf.h"
#include "authkit/event.h"
#include "authkit/audit.h"

#endif
