#include "app/pool.h"
int main() { return app::work(1) - 2; }
