#include "common.h"
int a() { return shared(1) + Shared().get(); }
