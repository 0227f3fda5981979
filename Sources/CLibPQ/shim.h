// libpq for Swift. Nothing variadic is needed; the shim only fixes the include path.
#ifndef PEDULI_CLIBPQ_SHIM_H
#define PEDULI_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
