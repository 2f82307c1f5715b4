// Collision warning on a ticket (presence): which other agents have this ticket open, and whether they are typing.
// Over the live socket (the core's, web/agent/live.js) when it is up, by short poll of the ticket's presence routes
// (plugins/ticketing/presence.c) when not.
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, setPresence, subscribe, useLiveState } from '@destek/agent';

const TYPING_MS = 5000;          // a draft untouched this long is no longer "typing"
const TYPING_REPEAT_MS = 4000;   // the server forgets a socket's typing after 8 s unless it is repeated
const PRESENCE_POLL_MS = 5000;   // the short poll while the socket is down

/* Collision warning on a ticket: reports this agent as viewing ticketId, and as typing while draft changes;
 * returns the other agents there [{user_id, name, typing}]. Over the socket when it is up, by short poll when not. */
export function usePresence(ticketId, draft, myId) {
  const [others, setOthers] = useState([]);
  const [typing, setTyping] = useState(false);
  const live = useLiveState();
  const subject = 'ticket:' + ticketId;
  const first = useRef(true);

  // Typing: the draft changed in the last few seconds (and is not empty).
  useEffect(() => {
    if (first.current) { first.current = false; return undefined; }
    if (!draft) { setTyping(false); return undefined; }
    setTyping(true);
    const timer = setTimeout(() => setTyping(false), TYPING_MS);
    return () => clearTimeout(timer);
  }, [draft]);

  useEffect(() => {
    setOthers([]);
    return subscribe((f) => {
      if (f.type === 'presence' && f.subject === subject) {
        setOthers(f.viewers.filter((v) => v.user_id !== myId));
      }
    });
  }, [subject, myId]);

  useEffect(() => () => setPresence(null), [subject]);
  useEffect(() => {
    if (live !== 'open') return undefined;
    setPresence(subject, typing);
    if (!typing) return undefined;
    const again = setInterval(() => setPresence(subject, true), TYPING_REPEAT_MS);
    return () => clearInterval(again);
  }, [live, subject, typing]);

  // The fallback: the short-poll routes, which share the server's presence table with the sockets.
  const typingRef = useRef(typing);
  typingRef.current = typing;
  useEffect(() => {
    if (live === 'open') return undefined;
    let stop = false;
    async function beat() {
      try {
        await api('POST', '/tickets/' + ticketId + '/presence', { typing: typingRef.current });
        const p = await api('GET', '/tickets/' + ticketId + '/presence');
        if (!stop) setOthers((p && p.items) || []);
      } catch (e) { /* presence is best effort */ }
    }
    // Give a socket that is still connecting a moment before reporting by HTTP.
    const start = setTimeout(beat, live === 'connecting' ? 2000 : 0);
    const timer = setInterval(beat, PRESENCE_POLL_MS);
    return () => { stop = true; clearTimeout(start); clearInterval(timer); };
  }, [live, ticketId]);
  return others;
}
