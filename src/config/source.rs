//! Where the static configuration comes from: the file (optional unless named), then the
//! environment, then command-line flags — a later source wins.

use super::error::ConfigErrors;
use super::format::parse_file;
use super::load::load_static_tree;
use super::locations::Locations;
use super::overlay::{self, Setting};
use super::static_config::StaticConfig;
use std::path::{Path, PathBuf};

/// The static file's path and the settings laid over it.
#[derive(Debug, Clone, Default)]
pub struct StaticSource {
    pub path: PathBuf,
    /// Named by the user (`--config`, `PYLON_CONFIG`): then it must exist.
    pub explicit: bool,
    /// Environment settings, then flag settings.
    pub settings: Vec<Setting>,
    /// Key paths left out of the tree (see [`StaticSource::without`]).
    pub pruned: Vec<String>,
}

impl StaticSource {
    /// The file alone, which must exist.
    pub fn file(path: &Path) -> StaticSource {
        StaticSource {
            path: path.to_path_buf(),
            explicit: true,
            settings: Vec::new(),
            pruned: Vec::new(),
        }
    }

    /// The same source with the keys at `paths` left out: lets a check go on past the static
    /// keys it refused, so the errors of the rest (the dynamic part included) come in one run.
    pub fn without(&self, paths: impl IntoIterator<Item = String>) -> StaticSource {
        let mut source = self.clone();
        source.pruned.extend(paths);
        source
    }

    /// Whether the file is read (it is named, or it exists at the default path).
    pub fn has_file(&self) -> bool {
        self.explicit || self.path.exists()
    }

    /// The path relative paths in the configuration resolve against (its directory): the
    /// file, or when there is none a file in the working directory.
    pub fn anchor(&self) -> PathBuf {
        if self.has_file() {
            self.path.clone()
        } else {
            PathBuf::from("./pylon.toml")
        }
    }

    /// The name errors about the static keys carry: the file, or when there is none the
    /// environment and flags (errors about a key a setting set name that setting instead).
    pub fn origin(&self) -> String {
        if self.has_file() {
            self.path.display().to_string()
        } else {
            "environment and flags".to_string()
        }
    }

    /// Reads the file (an absent default file is an empty one), lays the settings over it and
    /// deserializes the result; an error about a key a setting set names that setting.
    pub fn load(&self) -> Result<StaticConfig, ConfigErrors> {
        let origin = self.origin();
        let (tree, landed, locations) = self.tree()?;
        load_static_tree(tree, &origin)
            .map_err(|e| locations.annotate(overlay::attribute(e, &origin, &landed), &origin))
    }

    /// Gives errors found later (validation) about a key a setting set that setting's name.
    pub fn explain(&self, errors: ConfigErrors) -> ConfigErrors {
        match self.tree() {
            Ok((_, landed, locations)) => {
                let origin = self.origin();
                locations.annotate(overlay::attribute(errors, &origin, &landed), &origin)
            }
            Err(_) => errors,
        }
    }

    /// The file's tree with the settings laid over it, where each setting landed, and where
    /// the file wrote each key.
    fn tree(&self) -> Result<(toml::Value, Vec<overlay::Landed>, Locations), ConfigErrors> {
        let (mut tree, locations) = if self.has_file() {
            let parsed = parse_file(&self.path)?;
            (parsed.tree, parsed.locations)
        } else {
            (toml::Value::Table(toml::Table::new()), Locations::default())
        };
        let landed = overlay::apply(&mut tree, &self.settings)?;
        for path in &self.pruned {
            super::prune::remove_key(&mut tree, path);
        }
        Ok((tree, landed, locations))
    }
}
