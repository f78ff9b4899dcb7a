/** Shown after a 401: asks for an API key and keeps it in localStorage. */
import { useState } from 'react';
import { setApiKey } from '../api.ts';

export function ApiKeyPrompt({ onDone }: { onDone: () => void }) {
  const [key, setKey] = useState('');
  return (
    <div className="modal-backdrop" role="dialog" aria-label="Enter your API key">
      <form
        className="modal"
        onSubmit={(e) => {
          e.preventDefault();
          setApiKey(key.trim());
          onDone();
        }}
      >
        <h2>Enter your API key</h2>
        <p>This Shoplens server needs an API key with the read role. It is kept in this browser only.</p>
        <input
          autoFocus
          type="password"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          placeholder="slk_…"
          aria-label="API key"
        />
        <div className="modal-actions">
          <button type="submit" className="primary" disabled={key.trim() === ''}>
            Save and retry
          </button>
        </div>
      </form>
    </div>
  );
}
