#pragma once
namespace app {
inline int work(int v) { return v * 2; }
}
