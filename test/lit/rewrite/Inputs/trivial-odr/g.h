#pragma once
constexpr int g() { return 2; }
