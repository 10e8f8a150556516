#pragma once
int down(int N);
inline int up(int N) { return N ? down(N - 1) : 0; }
inline int down(int N) { return N ? up(N - 1) : 1; }
int back(int N);
inline int forth(int N) { return N ? back(N - 1) : 0; }
