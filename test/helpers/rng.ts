/** A deterministic pseudo-random generator (an LCG), so that a test's data set is the same every run. */
export function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}
