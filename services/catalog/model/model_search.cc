#include "services/catalog/model/model_search.h"

#include <algorithm>
#include <array>

#include "absl/container/inlined_vector.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/catalog/model/text_fold.h"

namespace modelcatalog::catalog {
namespace {

constexpr size_t kId = static_cast<size_t>(SearchField::kId);
constexpr size_t kDisplayName = static_cast<size_t>(SearchField::kDisplayName);
constexpr size_t kDeveloper = static_cast<size_t>(SearchField::kDeveloper);

// A model's atoms, by field.
struct ModelAtoms {
  std::array<absl::InlinedVector<SearchAtom, 16>, kSearchFieldCount> by_field;

  explicit ModelAtoms(absl::string_view encoded) {
    ForEachSearchAtom(encoded, [this](SearchField field, uint32_t, const SearchAtom& atom) {
      const size_t f = static_cast<size_t>(field);
      if (f < kSearchFieldCount) by_field[f].push_back(atom);
    });
  }
};

// Where one term matches: atoms [start, end] of a field.
struct TermMatch {
  uint8_t field;
  uint16_t start;
  uint16_t end;
  uint8_t typos;
  bool prefix;  // the term is only the start of the run (the last term)
};
using TermMatches = absl::InlinedVector<TermMatch, 8>;

// The matches of `term` without typos: a run of whole atoms, or for the last
// term the start of one.
void FindExactMatches(const SearchTerm& term, bool last, const ModelAtoms& model,
                      TermMatches* out) {
  const absl::string_view text = term.text;
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    const auto& atoms = model.by_field[f];
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(atoms.size(), UINT16_MAX));
    for (uint16_t i = 0; i < n; ++i) {
      if (atoms[i].text[0] != text[0]) continue;  // most atoms differ at once
      size_t matched = 0;
      // A joined term is one atom: its candidates are the atoms that are it
      // or, last, start with it.
      const uint16_t run_end = term.joined ? static_cast<uint16_t>(i + 1) : n;
      for (uint16_t j = i; j < run_end; ++j) {
        const absl::string_view rest = text.substr(matched);
        const absl::string_view atom = atoms[j].text;
        if (rest.size() >= atom.size() && rest.substr(0, atom.size()) == atom) {
          matched += atom.size();
          if (matched == text.size()) {
            out->push_back({static_cast<uint8_t>(f), i, j, 0, false});
            break;
          }
          continue;
        }
        if (last && atom.size() > rest.size() && atom.substr(0, rest.size()) == rest) {
          out->push_back({static_cast<uint8_t>(f), i, j, 0, true});
        }
        break;
      }
    }
  }
}

// Atoms are all letters or all digits; ASCII digits are what NFKC leaves of
// most digits.
bool IsDigitAtom(absl::string_view atom) { return atom[0] >= '0' && atom[0] <= '9'; }

// The matches of `term` within its allowed typos (AllowedTypos, not 0) of an
// atom, or of a whole word of several atoms ("deepsek" for "DeepSeek").
void FindTypoMatches(const SearchTerm& term, int typos, const ModelAtoms& model, TermMatches* out) {
  const absl::string_view text = term.text;
  // Code points are at most four bytes: a text whose size differs by more
  // than this cannot be within the typos.
  const auto may_be_near = [&](size_t size) {
    const size_t slack = static_cast<size_t>(typos) * 4;
    return size + slack >= text.size() && size <= text.size() + slack;
  };
  std::string word;
  for (size_t f = 0; f < kSearchFieldCount; ++f) {
    const auto& atoms = model.by_field[f];
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(atoms.size(), UINT16_MAX));
    for (uint16_t i = 0; i < n; ++i) {
      if (may_be_near(atoms[i].text.size())) {
        const int distance = EditDistance(text, atoms[i].text, typos);
        if (distance <= typos) {
          out->push_back({static_cast<uint8_t>(f), i, i, static_cast<uint8_t>(distance), false});
        }
      }
      if (!atoms[i].starts_word || i + 1 >= n || atoms[i + 1].starts_word) continue;
      word.assign(atoms[i].text.data(), atoms[i].text.size());
      bool has_digit = IsDigitAtom(atoms[i].text);
      uint16_t j = i + 1;
      for (; j < n && !atoms[j].starts_word; ++j) {
        word.append(atoms[j].text.data(), atoms[j].text.size());
        has_digit = has_digit || IsDigitAtom(atoms[j].text);
      }
      // None in numbers: a word with digits is matched by its atoms alone.
      if (has_digit || !may_be_near(word.size())) continue;
      const int distance = EditDistance(text, word, typos);
      if (distance <= typos) {
        out->push_back({static_cast<uint8_t>(f), i, static_cast<uint16_t>(j - 1),
                        static_cast<uint8_t>(distance), false});
      }
    }
  }
}

// Whether the terms match in order, without typos, in field `f`; `*prefix`
// tells whether the last one needed to end inside a word.
bool InOrder(const absl::InlinedVector<TermMatches, 4>& matches, size_t f, bool* prefix) {
  uint32_t next = 0;  // the first atom the next term may start at
  *prefix = false;
  for (size_t t = 0; t < matches.size(); ++t) {
    const bool last = t + 1 == matches.size();
    const TermMatch* best = nullptr;
    for (const TermMatch& m : matches[t]) {
      if (m.field != f || m.typos != 0 || m.start < next) continue;
      // The earliest end leaves the most room for the terms after it; the last
      // term prefers a whole word.
      if (best == nullptr ||
          (last ? std::make_pair(m.prefix, m.end) < std::make_pair(best->prefix, best->end)
                : m.end < best->end)) {
        best = &m;
      }
    }
    if (best == nullptr) return false;
    next = best->end + 1u;
    *prefix = *prefix || best->prefix;
  }
  return true;
}

SearchRank Rank(int tier, bool developer, bool family) {
  return static_cast<SearchRank>(1 + 4 * tier + (developer ? 2 : 0) + (family ? 0 : 1));
}

absl::optional<SearchRank> RankTerms(const ModelAtoms& model, absl::Span<const SearchTerm> terms,
                                     const std::string& joined) {
  absl::InlinedVector<TermMatches, 4> matches(terms.size());
  // Typos are looked for only where a term has no match without: a match
  // without typos ranks above any with, so those could never count.
  for (size_t t = 0; t < terms.size(); ++t) {
    const SearchTerm& term = terms[t];
    FindExactMatches(term, t + 1 == terms.size(), model, &matches[t]);
    if (matches[t].empty()) {
      const int typos = AllowedTypos(term);
      if (typos > 0) FindTypoMatches(term, typos, model, &matches[t]);
      if (matches[t].empty()) return absl::nullopt;
    }
  }
  // The exact id, separators aside ("gpt5" is "gpt-5"): the id's atoms joined.
  size_t joined_size = 0;
  for (const SearchAtom& atom : model.by_field[kId]) joined_size += atom.text.size();
  if (joined_size == joined.size()) {
    size_t at = 0;
    bool same = true;
    for (const SearchAtom& atom : model.by_field[kId]) {
      same = same && absl::string_view(joined).substr(at, atom.text.size()) == atom.text;
      at += atom.text.size();
    }
    if (same) return kExactIdRank;
  }

  bool family = false;
  for (const TermMatches& term : matches) {
    for (const TermMatch& m : term) family = family || (m.start == 0 && m.field != kDeveloper);
  }
  // Without typos, in the id or the display name.
  bool exact_in_id_or_name = true;
  bool exact_anywhere = true;
  for (const TermMatches& term : matches) {
    bool in_id_or_name = false;
    bool anywhere = false;
    for (const TermMatch& m : term) {
      if (m.typos != 0) continue;
      anywhere = true;
      in_id_or_name = in_id_or_name || m.field != kDeveloper;
    }
    exact_in_id_or_name = exact_in_id_or_name && in_id_or_name;
    exact_anywhere = exact_anywhere && anywhere;
  }
  if (exact_in_id_or_name) {
    int tier = 2;
    for (size_t f : {kId, kDisplayName}) {
      bool prefix = false;
      if (InOrder(matches, f, &prefix)) tier = std::min(tier, prefix ? 1 : 0);
    }
    return Rank(tier, false, family);
  }
  if (exact_anywhere) return Rank(2, true, family);
  // With typos: each term's fewest, preferring the id and display name.
  int typos = 0;
  bool developer = false;
  for (const TermMatches& term : matches) {
    int fewest = 255;
    bool fewest_outside_developer = false;
    for (const TermMatch& m : term) {
      if (m.typos < fewest) {
        fewest = m.typos;
        fewest_outside_developer = m.field != kDeveloper;
      } else if (m.typos == fewest && m.field != kDeveloper) {
        fewest_outside_developer = true;
      }
    }
    typos += fewest;
    developer = developer || !fewest_outside_developer;
  }
  return Rank(2 + std::min(typos, kMaxRankedTypos), developer, family);
}

absl::optional<SearchRank> RankWords(absl::string_view encoded, const SearchQuery& query) {
  const ModelAtoms model(encoded);
  if (absl::optional<SearchRank> rank = RankTerms(model, query.terms, query.joined)) return rank;
  // Two terms typed apart that are one word of the model ("mid journey" for
  // "Midjourney"): no better than a match in any order.
  absl::optional<SearchRank> best;
  for (const std::vector<SearchTerm>& variant : query.joined_neighbours) {
    absl::optional<SearchRank> rank = RankTerms(model, variant, query.joined);
    if (!rank) continue;
    const SearchRank floor = Rank(2, false, true) + (*rank - 1) % 4;
    if (*rank != kExactIdRank && *rank < floor) rank = floor;
    if (!best || *rank < *best) best = rank;
  }
  return best;
}

// The positions of every model that may match `term`, ascending.
std::vector<uint32_t> Candidates(const SearchIndex& index, size_t model_count,
                                 const SearchTerm& term, bool last) {
  absl::InlinedVector<absl::Span<const uint32_t>, 16> lists;
  const absl::string_view text = term.text;
  if (last) {
    const auto [first, end] = index.WithPrefix(text);
    for (uint32_t w = first; w < end; ++w) lists.push_back(index.Postings(w));
  } else if (absl::optional<uint32_t> word = index.Find(text)) {
    lists.push_back(index.Postings(*word));
  }
  // A run of atoms starts with an atom that is the start of the term.
  for (size_t length = 1; length < text.size() && !term.joined; ++length) {
    if ((static_cast<uint8_t>(text[length]) & 0xC0) == 0x80) continue;  // inside a code point
    if (absl::optional<uint32_t> word = index.Find(text.substr(0, length))) {
      lists.push_back(index.Postings(*word));
    }
  }
  if (const int typos = AllowedTypos(term); typos > 0) {
    index.ForEachNearWord(text, typos,
                          [&](uint32_t word) { lists.push_back(index.Postings(word)); });
  }
  size_t total = 0;
  for (absl::Span<const uint32_t> list : lists) total += list.size();
  std::vector<uint32_t> positions;
  if (lists.size() == 1) return std::vector<uint32_t>(lists[0].begin(), lists[0].end());
  if (total > model_count / 16) {
    // Many: a bitmap of the catalog is cheaper than sorting them.
    std::vector<uint64_t> bits((model_count + 63) / 64, 0);
    for (absl::Span<const uint32_t> list : lists) {
      for (uint32_t p : list) bits[p / 64] |= uint64_t{1} << (p % 64);
    }
    positions.reserve(total);
    for (size_t w = 0; w < bits.size(); ++w) {
      for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
        positions.push_back(static_cast<uint32_t>(w * 64 + __builtin_ctzll(word)));
      }
    }
    return positions;
  }
  positions.reserve(total);
  for (absl::Span<const uint32_t> list : lists)
    positions.insert(positions.end(), list.begin(), list.end());
  std::sort(positions.begin(), positions.end());
  positions.erase(std::unique(positions.begin(), positions.end()), positions.end());
  return positions;
}

// The positions of every model that may match all of `terms`, ascending.
std::vector<uint32_t> CandidatesOfAll(const SearchIndex& index, size_t model_count,
                                      absl::Span<const SearchTerm> terms) {
  // A joined term first: it is rare, and when no model has it the rest is
  // not looked up.
  std::vector<size_t> order(terms.size());
  for (size_t t = 0; t < order.size(); ++t) order[t] = t;
  std::stable_partition(order.begin(), order.end(), [&](size_t t) { return terms[t].joined; });
  std::vector<std::vector<uint32_t>> per_term;
  per_term.reserve(terms.size());
  for (size_t t : order) {
    per_term.push_back(Candidates(index, model_count, terms[t], t + 1 == terms.size()));
    if (per_term.back().empty()) return {};
  }
  // The shortest list first, so that each intersection is no larger than it.
  std::sort(per_term.begin(), per_term.end(),
            [](const auto& a, const auto& b) { return a.size() < b.size(); });
  std::vector<uint32_t> candidates = std::move(per_term[0]);
  for (size_t t = 1; t < per_term.size() && !candidates.empty(); ++t) {
    std::vector<uint32_t> both;
    std::set_intersection(candidates.begin(), candidates.end(), per_term[t].begin(),
                          per_term[t].end(), std::back_inserter(both));
    candidates = std::move(both);
  }
  return candidates;
}

}  // namespace

absl::StatusOr<SearchQuery> ParseSearchQuery(absl::string_view text) {
  SearchQuery query;
  query.terms = SearchTerms(text);
  if (query.terms.empty()) {
    return absl::InvalidArgumentError(
        "query has no letter or digit: search matches words of model ids and names");
  }
  for (const SearchTerm& term : query.terms) {
    absl::StrAppend(&query.joined, term.text);
    absl::StrAppend(&query.key, query.key.empty() ? "" : " ", term.text);
  }
  if (query.terms.size() >= 2 && query.terms.size() <= kMaxJoinedNeighbourTerms) {
    for (size_t i = 0; i + 1 < query.terms.size(); ++i) {
      std::vector<SearchTerm> variant;
      for (size_t t = 0; t < query.terms.size(); ++t) {
        if (t == i + 1) continue;
        variant.push_back(query.terms[t]);
        if (t != i) continue;
        const SearchTerm& next = query.terms[i + 1];
        SearchTerm& merged = variant.back();
        for (uint32_t start : next.atom_starts) {
          merged.atom_starts.push_back(static_cast<uint32_t>(merged.text.size()) + start);
        }
        merged.text += next.text;
        merged.characters += next.characters;
        merged.has_digit = merged.has_digit || next.has_digit;
        merged.joined = true;
      }
      query.joined_neighbours.push_back(std::move(variant));
    }
  }
  return query;
}

absl::optional<SearchRank> RankEntry(const CatalogEntry& entry, const SearchQuery& query) {
  return RankWords(entry.fields.text(ModelFields::kSearchWords), query);
}

std::vector<uint32_t> RankedMatches(const CatalogSnapshot& snapshot, const SearchQuery& query,
                                    const std::function<bool(uint32_t)>& accept) {
  const SearchIndex& index = snapshot.search_index();
  std::vector<uint32_t> candidates = CandidatesOfAll(index, snapshot.size(), query.terms);
  for (const std::vector<SearchTerm>& variant : query.joined_neighbours) {
    std::vector<uint32_t> more = CandidatesOfAll(index, snapshot.size(), variant);
    if (more.empty()) continue;
    std::vector<uint32_t> either;
    std::set_union(candidates.begin(), candidates.end(), more.begin(), more.end(),
                   std::back_inserter(either));
    candidates = std::move(either);
  }
  // Ranked one by one, in position order, into a bucket per rank: the buckets
  // joined are in (rank, id) order.
  std::vector<std::vector<uint32_t>> by_rank(kWorstSearchRank + 1);
  size_t matched = 0;
  for (uint32_t position : candidates) {
    const absl::optional<SearchRank> rank = RankWords(index.ModelWords(position), query);
    if (!rank || (accept != nullptr && !accept(position))) continue;
    by_rank[*rank].push_back(position);
    ++matched;
  }
  std::vector<uint32_t> ranked;
  ranked.reserve(matched);
  for (const std::vector<uint32_t>& bucket : by_rank) {
    ranked.insert(ranked.end(), bucket.begin(), bucket.end());
  }
  return ranked;
}

size_t FirstMatchAfter(const CatalogSnapshot& snapshot, const SearchQuery& query,
                       const std::vector<uint32_t>& ranked, SearchRank rank,
                       absl::string_view last_id) {
  // Positions are in id order, so (rank, position) orders like (rank, id);
  // the cursor's model may be gone, its place in id order is not.
  const size_t after = snapshot.UpperBound(last_id);
  const auto before_or_at_cursor = [&](uint32_t position) {
    const SearchRank r = RankEntry(snapshot.entry(position), query).value_or(kWorstSearchRank);
    return r < rank || (r == rank && position < after);
  };
  return static_cast<size_t>(
      std::partition_point(ranked.begin(), ranked.end(), before_or_at_cursor) - ranked.begin());
}

}  // namespace modelcatalog::catalog
