#include "pool.h"
int other() { return 2; }
