/** Okabe-Ito, a colour-blind-safe palette (Okabe & Ito 2008). */
export const OKABE_ITO = [
  '#E69F00',
  '#56B4E9',
  '#009E73',
  '#F0E442',
  '#0072B2',
  '#D55E00',
  '#CC79A7',
  '#999999',
];

export const CATEGORY_COLOR = {
  shared: '#009E73',
  private: '#56B4E9',
  duplicate: '#D55E00',
  other: '#999999',
} as const;

export const CATEGORY_LABEL = {
  shared: 'shared',
  private: 'private',
  duplicate: 'unsharable duplicate',
  other: 'not cached separately (dirs, links, unmounted)',
} as const;
