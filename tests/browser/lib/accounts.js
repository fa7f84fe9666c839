'use strict';
// The people and organisations every journey works with. Passwords are throwaway test values.

const orgs = {
  a: 'Leverandør A AS',
  b: 'Leverandør B AS',
};

const users = {
  kari: { username: 'kari@leverandor-a.no', role: 'vendor', org: orgs.a, password: 'korrekt-hest-batteri-a', home: '/leverandor' },
  ola: { username: 'ola@leverandor-b.no', role: 'vendor', org: orgs.b, password: 'korrekt-hest-batteri-b', home: '/leverandor' },
  rita: { username: 'rita@prosjektet.no', role: 'reviewer', password: 'korrekt-hest-batteri-rita', home: '/vurdering' },
  rune: { username: 'rune@prosjektet.no', role: 'reviewer', password: 'korrekt-hest-batteri-rune', home: '/vurdering' },
  berit: { username: 'berit@prosjektet.no', role: 'beslutningsgruppe', password: 'korrekt-hest-batteri-berit', home: '/vurdering' },
  admin: { username: 'admin@prosjektet.no', role: 'admin', password: 'korrekt-hest-batteri-admin', home: '/revisjon' },
};

module.exports = { orgs, users };
