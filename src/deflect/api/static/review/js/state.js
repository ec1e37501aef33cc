/** What the review page has loaded and shows, shared by its views. */
export const PAGE_SIZE = 50;

export const state = {
  me: null,
  catalog: { intents: [], articles: [], proposed_intents: [] },
  view: null,
  queueHash: "#/queue",
  queue: null, // {total, items} as last shown
  queueParams: new URLSearchParams(),
  cursor: 0,
  selected: new Set(),
  focusRow: false,
  detail: null,
  pendingFocus: null,
  analytics: null,
  unmet: null,
  gaps: null, // the content gaps under the analytics charts
  loads: { queue: 0, item: 0, analytics: 0, unmet: 0, gaps: 0 },
  gPressedAt: 0,
};

export function isMine(item) {
  return state.me && item.claimed_by === state.me.reviewer;
}
