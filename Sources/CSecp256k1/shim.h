#ifndef SIGNING_PROXY_CSECP256K1_SHIM_H
#define SIGNING_PROXY_CSECP256K1_SHIM_H

// Only the parts of libsecp256k1 the project uses: core API, recoverable signatures and ECDH (E2EE).
#include <secp256k1.h>
#include <secp256k1_recovery.h>
#include <secp256k1_ecdh.h>

#endif
