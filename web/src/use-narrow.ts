/** True on phone-width screens (panels then stack in one column). */
import { useEffect, useState } from 'react';

const QUERY = '(max-width: 700px)';

export function useNarrow(): boolean {
  const [narrow, setNarrow] = useState(() => matchMedia(QUERY).matches);
  useEffect(() => {
    const m = matchMedia(QUERY);
    const update = () => setNarrow(m.matches);
    m.addEventListener('change', update);
    return () => m.removeEventListener('change', update);
  }, []);
  return narrow;
}
